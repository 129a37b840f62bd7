// Copies the prebuilt browser bundles (and their licences) of the libraries in package.json
// into the folders the apps serve them from, which are committed: the apps never need npm.
// The web app's static/vendor/ (Cytoscape.js) and the platform's static/ (Swagger UI, for
// its offline OpenAPI docs page).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "..", "src", "tantalio");
const FILES = {
  cytoscape: [
    ["web/static/vendor", "dist/cytoscape.min.js", "cytoscape.min.js"],
    ["web/static/vendor", "LICENSE", "cytoscape.LICENSE"],
  ],
  "swagger-ui-dist": [
    ["platform/static", "swagger-ui-bundle.js", "swagger-ui-bundle.js"],
    ["platform/static", "swagger-ui.css", "swagger-ui.css"],
    ["platform/static", "favicon-32x32.png", "swagger-favicon-32x32.png"],
    ["platform/static", "LICENSE", "swagger-ui.LICENSE"],
    ["platform/static", "NOTICE", "swagger-ui.NOTICE"],
  ],
};

for (const [pkg, files] of Object.entries(FILES)) {
  const root = join(here, "node_modules", pkg);
  const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const [dir, from, to] of files) {
    mkdirSync(join(src, dir), { recursive: true });
    copyFileSync(join(root, from), join(src, dir, to));
    console.log(`${pkg}@${version}: ${from} -> ${dir}/${to}`);
  }
}
