"""English (Android and iOS)."""

# ruff: noqa: E501  (a WhatsApp sentence reads better unbroken)

LANGUAGE = {
    "code": "en",
    "name": "English",
    "rules": (
        ("created", r"{actor} created (?:the )?group {q}{subject}{qc}"),
        ("created", r"{actor} created this group"),
        (
            "joined_invite",
            r"{actor} joined (?:using|via|from) (?:this group['\u2019]s|a group|an|the)"
            r" (?:invite )?link",
        ),
        (
            "subject_changed",
            r"{actor} changed the (?:subject|group name) from {q}{old}{qc} to {q}{subject}{qc}",
        ),
        ("subject_changed", r"{actor} changed the (?:subject|group name) to {q}{subject}{qc}"),
        (
            "icon_changed",
            r"{actor} (?:changed|deleted) (?:this group['\u2019]s|the group) (?:icon|photo)",
        ),
        ("admin_granted", r"You['\u2019]re now an admin", "owner-target"),
        ("number_changed", r"{actor} changed (?:their phone number )?to {targets}"),
        ("added", r"{actor} added {targets}"),
        ("removed", r"{actor} removed {targets}"),
        ("left", r"{actor} left"),
        ("other", r"Messages and calls are end-to-end encrypted\b.*"),
        (
            "other",
            r"(?:You|.+?) changed (?:the|this) group(?:['\u2019]s)? (?:description|settings).*",
        ),
        ("other", r"Your security code with .+ changed.*"),
        ("other", r"Missed (?:voice|video) call.*"),
    ),
    "keywords": (
        "created",
        "joined",
        "changed",
        "deleted",
        "now an admin",
        "added",
        "removed",
        "left",
        "encrypted",
        "security code",
        "Missed",
    ),
    "owner_words": ("You", "you"),
    "and_words": ("and",),
    "attached_android": ("file attached",),
    "attached_ios": ("attached",),
    "omitted_android": ("<Media omitted>",),
    "omitted_ios": {
        "image omitted": "image",
        "video omitted": "video",
        "audio omitted": "audio",
        "sticker omitted": "sticker",
        "GIF omitted": "video",
        "document omitted": "document",
        "Contact card omitted": "contact",
    },
    "chat_file": ("WhatsApp Chat with", "WhatsApp Chat -"),
    "samples": (
        ('Alice created group "Garden Club"', "created", "Alice", (), "Garden Club"),
        ("You created group \u201cGarden Club\u201d", "created", "You", (), "Garden Club"),
        ("Alice added you", "added", "Alice", ("You",), None),
        ("Alice added Bob, Carol and Dave", "added", "Alice", ("Bob", "Carol", "Dave"), None),
        ("Dave joined using this group's invite link", "joined_invite", "Dave", (), None),
        (
            'Alice changed the subject from "A" to "B"',
            "subject_changed",
            "Alice",
            (),
            "B",
        ),
        ("You're now an admin", "admin_granted", None, ("You",), None),
        ("Erin left", "left", "Erin", (), None),
        ("Alice removed +1 415-555-0104", "removed", "Alice", ("+1 415-555-0104",), None),
        ("Alice removed you", "removed", "Alice", ("You",), None),
    ),
}
