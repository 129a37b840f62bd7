// Copies the prebuilt browser bundles (and their licences) of the libraries in package.json
// into the web app's static/vendor/ folder, which is committed: the app never needs npm.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "src", "tantalio", "web", "static", "vendor");
const FILES = {
  cytoscape: [
    ["dist/cytoscape.min.js", "cytoscape.min.js"],
    ["LICENSE", "cytoscape.LICENSE"],
  ],
};

mkdirSync(vendor, { recursive: true });
for (const [pkg, files] of Object.entries(FILES)) {
  const root = join(here, "node_modules", pkg);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const [from, to] of files) {
    copyFileSync(join(root, from), join(vendor, to));
    console.log(`${pkg}@${version}: ${from} -> static/vendor/${to}`);
  }
}
