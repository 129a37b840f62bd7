"""Write the hash-set sample files in this folder (run: `.venv/bin/python make_samples.py`).

Every hash is the digest of a benign label such as b"benign-1" (`digest(alg, label)`), so
tests can state expected values independently of these files. The files are written by
hand-shaped templates, not by tantalio's writers, so readers are tested against the format
rather than against themselves. Deliberate faults are marked `BAD` in the comments below.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

HERE = Path(__file__).resolve().parent


def digest(algorithm: str, label: str) -> str:
    """Hex digest of a benign label; "pdq" is a 256-bit value derived with SHA-256."""
    name = "sha256" if algorithm == "pdq" else algorithm
    return hashlib.new(name, label.encode()).hexdigest()


def md5(label: str) -> str:
    return digest("md5", label)


def sha1(label: str) -> str:
    return digest("sha1", label)


def sha256(label: str) -> str:
    return digest("sha256", label)


def pdq(label: str) -> str:
    return digest("pdq", "pdq:" + label)


def photodna(label: str) -> str:
    """A stand-in PhotoDNA value: 144 bytes, base64, as exports carry it (never computed)."""
    raw = (hashlib.sha512(label.encode()).digest() * 3)[:144]
    return base64.b64encode(raw).decode()


def write(name: str, text: str, bom: bool = False, newline: str = "\n") -> None:
    data = text.replace("\n", newline).encode("utf-8")
    (HERE / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def vics_1x_cases() -> None:
    """VICS 1.x, #Cases with nested Media, BOM, CRLF, .NET /Date()/ dates, 1.x categories."""
    write(
        "vics_1x_cases.json",
        f"""{{
  "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml/US/$metadata#Cases",
  "value": [
    {{
      "CaseID": "6f1e1c9a-0000-4000-8000-000000000001",
      "CaseNumber": "DEMO-2017-001",
      "ContactName": "Examiner A",
      "Media": [
        {{
          "MediaID": 1,
          "Category": 1,
          "MD5": "{md5("benign-1").upper()}",
          "SHA1": "{sha1("benign-1").upper()}",
          "MediaSize": 2835,
          "Series": "Lighthouse",
          "VictimIdentified": true,
          "OffenderIdentified": false,
          "IsDistributed": true,
          "Comments": "stand-in for known material",
          "Tags": "landscape;coast",
          "DateUpdated": "/Date(1500000000000)/",
          "MediaFiles": [
            {{
              "FileName": "a.jpg",
              "FilePath": "phone1.zip/DCIM/a.jpg",
              "Created": "/Date(1500000000000+0100)/",
              "Written": "/Date(1500000060000)/",
              "Accessed": "/Date(1500000120000)/",
              "Unallocated": false
            }}
          ]
        }},
        {{
          "MediaID": 2,
          "Category": 0,
          "MD5": "{md5("benign-2")}",
          "SHA1": "{sha1("benign-2")}",
          "VictimIdentified": false
        }},
        {{
          "MediaID": 3,
          "Category": 7,
          "MD5": "{md5("benign-3")}"
        }},
        {{
          "MediaID": 4,
          "Category": 1,
          "MD5": "{md5("benign-4")[:-2]}",
          "SHA1": "{sha1("benign-4")}"
        }}
      ]
    }},
    {{
      "CaseID": "6f1e1c9a-0000-4000-8000-000000000002",
      "CaseNumber": "DEMO-2017-002",
      "Media": [
        {{
          "MediaID": 5,
          "Category": 3,
          "SHA1": "{sha1("benign-5")}",
          "Series": "Orchard"
        }}
      ]
    }}
  ]
}}
""",
        bom=True,
        newline="\r\n",
    )
    # BAD: record 3 has an unknown category code (kept uncategorized, warning);
    # BAD: record 4 has a 30-digit MD5 (skipped, warning).


def vics_2_media() -> None:
    """VICS 2.0, flat #Media, no BOM, ISO dates, PhotoDNA, null category, hash list."""
    write(
        "vics_2_media.json",
        f"""{{
  "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
  "value": [
    {{
      "MediaID": 10,
      "Category": 0,
      "MD5": "{md5("benign-10").upper()}",
      "SHA1": "{sha1("benign-10").upper()}",
      "MediaSize": 1024,
      "DateUpdated": "2023-06-07T02:31:49.8300Z",
      "IsPrecategorized": "false"
    }},
    {{
      "MediaID": 11,
      "Category": 2,
      "MD5": "{md5("benign-11")}",
      "PhotoDNA": "{photodna("benign-11")}",
      "Series": "Meadow",
      "VictimIdentified": "true",
      "Tags": ["texture", "noise"],
      "DateUpdated": "2023-06-07T04:31:49+02:00"
    }},
    {{
      "MediaID": 12,
      "Category": null,
      "SHA1": "{sha1("benign-12")}",
      "AlternativeHashes": [
        {{"HashName": "SHA256", "HashValue": "{sha256("benign-12")}"}},
        {{"HashName": "PDQ", "HashValue": "{pdq("benign-12")}"}},
        {{"HashName": "VendorX", "HashValue": "ignored"}}
      ]
    }},
    {{
      "MediaID": 13,
      "Category": 4,
      "MD5": "{md5("benign-13")}",
      "OffenderIdentified": "perhaps"
    }},
    {{
      "MediaID": 14,
      "Category": 1,
      "Comments": "no hash at all"
    }},
    {{
      "MediaID": 15,
      "Category": 3,
      "MD5": "{md5("benign-15")}",
      "DateUpdated": "2023-13-45"
    }}
  ]
}}
""",
    )
    # BAD: record 4 OffenderIdentified "perhaps" (value ignored); record 5 no hash (skipped);
    # BAD: record 6 impossible date (value ignored).


def vics_2_cases() -> None:
    """VICS 2.0, #Cases, minified on one line, MediaFiles with ISO dates and a deleted file."""
    media = [
        f'{{"MediaID":20,"Category":1,"MD5":"{md5("benign-20")}","SHA1":"{sha1("benign-20")}",'
        f'"Series":{{"Name":"Harbour"}},"IsDistributed":false,"MediaFiles":['
        f'{{"MediaFileID":1,"FileName":"b.png","FilePath":"disk.dd/Users/x/b.png",'
        f'"Created":"2021-01-02T03:04:05Z","Unallocated":true}},'
        f'{{"MediaFileID":2,"FileName":"b copy.png","FilePath":"E:\\\\export",'
        f'"Written":"2021-01-03T00:00:00"}}]}}',
        f'{{"MediaID":21,"Category":2,"MD5":"{md5("benign-21")}"}}',
    ]
    text = (
        '{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/'
        '$metadata#Cases","value":[{"CaseNumber":"DEMO-2021-7","Media":[' + ",".join(media) + "]}]}"
    )
    write("vics_2_cases.json", text)


def vics_1x_media() -> None:
    """VICS 1.x, flat #Media, string category names, camel-case keys."""
    write(
        "vics_1x_media.json",
        f"""{{"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.2.xml/US/$metadata#Media",
 "value": [
  {{"MediaID": 30, "Category": "CAM", "Md5": "{md5("benign-30")}", "Sha1": "{sha1("benign-30")}"}},
  {{"MediaID": 31, "Category": "Non-Pertinent", "Md5": "{md5("benign-31")}"}},
  {{"MediaID": 32, "Category": "0", "Md5": "{md5("benign-32")}"}}
 ]}}
""",
    )


def not_json() -> None:
    write("not_vics.json", "MD5,SHA1\nthis is not json\n")
    write("truncated_vics.json", (HERE / "vics_2_cases.json").read_text()[:300])


def icse() -> None:
    """ICSE/Baseline CSV: BOM, CRLF, spaced/mixed-case headers, an unknown column."""
    rows = [
        "ID, MD5 ,Sha1,photoDNA,Victim Identified,offender_identified,Series Name,Baseline,"
        "Category,Region",
        f"1001,{md5('benign-40').upper()},{sha1('benign-40')},{photodna('benign-40')},Yes,No,"
        "Lighthouse,1,1,EU",
        f"1002,{md5('benign-41')},,,N,,,0,2,",
        f'1003,,{sha1("benign-42")},,,,"Orchard, north",,4,US',
        f"1004,{md5('benign-43')}XYZ,,,Yes,,,,1,",
        "1005,,,,Yes,,,,1,",
        f"1006,{md5('benign-45')},,,maybe,,,,,",
        f"1007,{md5('benign-46')},,,,,,,,,,extra,cells",
    ]
    write("icse.csv", "\n".join(rows) + "\n", bom=True, newline="\r\n")
    # BAD: 1004 MD5 too long (skipped, MD5); 1005 no hash (skipped); 1006 flag "maybe"
    # (value ignored); 1007 more cells than the header (skipped).
    rows = [
        "md5;sha_1;SERIESNAME;VICTIMIDENTIFIED;category",
        f"{md5('benign-50')};{sha1('benign-50')};Meadow;true;CAM",
        f"{md5('benign-51')};;;false;non-pertinent",
    ]
    write("icse_semicolon.csv", "\n".join(rows) + "\n")


def hma() -> None:
    """HMA/ThreatExchange CSV, with a header and extra columns, and without a header."""
    frames = [f"{pdq('frame-0')},100,0.000", f"{pdq('frame-1')},90,1.000"]
    vpdq = '"[' + ",".join(f'""{f}""' for f in frames) + ']"'
    rows = [
        "signal_type,signal,category,note,bank",
        f"pdq,{pdq('benign-60')},1,stand-in,BANK_A",
        f"video_md5,{md5('benign-61')},,,BANK_A",
        f"md5,{md5('benign-62').upper()},2,,BANK_B",
        f"vpdq,{vpdq},,,BANK_A",
        "url,https://example.org/,,,BANK_A",
        f"pdq,{pdq('benign-64')[:60]},,,BANK_A",
    ]
    write("hma.csv", "\n".join(rows) + "\n")
    # BAD: url is not a file hash (skipped); last PDQ is 60 digits (skipped).
    rows = [f"pdq,{pdq('benign-70')}", f"video_sha256,{sha256('benign-71')},extra"]
    write("hma_bare.csv", "\n".join(rows) + "\n")


def checksums() -> None:
    """md5sum/sha1sum/sha256sum lists in every line style coreutils and BSD write."""
    write(
        "list.md5",
        f"""# benign stand-ins
{md5("benign-80")}  photos/a.jpg
{md5("benign-81")} *photos/b.jpg
{md5("benign-82").upper()}

MD5 (photos/d e.jpg) = {md5("benign-83")}
\\{md5("benign-84")}  photos/new\\nline.jpg
{md5("benign-85")[:31]}g  photos/bad.jpg
SHA256 (photos/f.jpg) = {sha256("benign-86")}
""",
    )
    # BAD: line 8 has a non-hex digit (skipped); line 9 is a SHA256 tag (skipped).
    write("list.sha1", f"{sha1('benign-90')}  a.png\r\n{sha1('benign-91')}\r\n", newline="\n")
    write(
        "list.sha256",
        f"{sha256('benign-95')}  a.png\nSHA256 (b.png) = {sha256('benign-96')}\n",
    )


def nsrl() -> None:
    """NSRL RDS v2 NSRLFile.txt (sorted by SHA-1, one hash repeated) and an RDS v3 SQLite."""
    header = (
        '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
    )
    labels = sorted(["benign-100", "benign-101", "benign-102"], key=sha1)
    rows = [header]
    for label in labels:
        rows.append(
            f'"{sha1(label).upper()}","{md5(label).upper()}","0A1B2C3D","{label}.dll",'
            f'"1024","1234","358",""'
        )
        if label == "benign-101":  # the same file listed under a second product
            rows.append(
                f'"{sha1(label).upper()}","{md5(label).upper()}","0A1B2C3D","{label}.dll",'
                f'"1024","5678","358",""'
            )
    rows.append('"NOT-A-SHA1","D41D8CD98F00B204E9800998ECF8427E","0","x","0","1","1",""')
    write("NSRLFile.txt", "\n".join(rows) + "\n", newline="\r\n")

    path = HERE / "nsrl_v3.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,"
        " crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,"
        " package_id INTEGER NOT NULL)"
    )
    for label, package in (("benign-110", 1), ("benign-110", 2), ("benign-111", 1)):
        conn.execute(
            "INSERT INTO FILE VALUES (?,?,?,?,?,?,?)",
            (sha256(label).upper(), sha1(label).upper(), md5(label).upper(), "00000000",
             f"{label}.exe", 4096, package),
        )  # fmt: skip
    conn.execute(
        "INSERT INTO FILE VALUES (?,?,?,?,?,?,?)", ("xyz", "", "", "0", "bad.exe", 1, 1)
    )  # BAD: record 4
    conn.commit()
    conn.execute("VACUUM")
    conn.close()


def signed_list() -> None:
    """A published list signed with a throw-away key; only the public key is kept."""
    from datetime import UTC, datetime

    from tantalio.hashsets.record import HashEntry
    from tantalio.hashsets.signed import generate_keypair, publish, save_public_key

    private, public = generate_keypair()
    entries = [
        HashEntry(md5=md5("benign-120"), sha1=sha1("benign-120"), category=1, series="Lighthouse",
                  original_id="C-120", added_at=datetime(2024, 1, 2, tzinfo=UTC)),
        HashEntry(pdq=pdq("benign-121"), category=2, victim_identified=True,
                  original_id="C-121"),
    ]  # fmt: skip
    data = publish(
        entries, private, "Baseline stand-in", "Central DB (test)",
        created=datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC),
    )  # fmt: skip
    (HERE / "signed_list.json").write_bytes(data)
    save_public_key(public, HERE / "signed_list_pub.pem")


def main() -> None:
    vics_1x_cases()
    vics_2_media()
    vics_2_cases()
    vics_1x_media()
    not_json()
    icse()
    hma()
    checksums()
    nsrl()
    signed_list()


if __name__ == "__main__":
    main()
