"""Spanish (Spain and Latin America: "añadió" and "agregó"; Android and iOS).

Second-person lines name the owner by the verb alone ("Creaste el grupo", "Saliste"), and
"te" as the object ("Alice te añadió"); people added or removed take the article "a".
"""

# ruff: noqa: E501  (a WhatsApp sentence reads better unbroken)

_ADD = "(?:añadió|agregó)"
_ADD_YOU = "(?:Añadiste|Agregaste)"
_LINK = r"(?:usando|mediante|con|a través de) el enlace de invitación(?: de este grupo| al grupo)?"
_NAME = r"(?:el asunto|el nombre del grupo)"
_ICON = r"(?:el ícono|el icono|la imagen|la foto) (?:de este grupo|del grupo)"

LANGUAGE = {
    "code": "es",
    "name": "Spanish",
    "rules": (
        ("created", r"{actor} creó el grupo {q}{subject}{qc}"),
        ("created", r"Creaste el grupo {q}{subject}{qc}", "owner-actor"),
        ("created", r"{actor} creó este grupo"),
        ("created", r"Creaste este grupo", "owner-actor"),
        ("joined_invite", rf"{{actor}} se unió {_LINK}"),
        ("joined_invite", rf"Te uniste {_LINK}", "owner-actor"),
        (
            "subject_changed",
            rf"{{actor}} cambió {_NAME} de {{q}}{{old}}{{qc}} a {{q}}{{subject}}{{qc}}",
        ),
        (
            "subject_changed",
            rf"Cambiaste {_NAME} de {{q}}{{old}}{{qc}} a {{q}}{{subject}}{{qc}}",
            "owner-actor",
        ),
        ("subject_changed", rf"{{actor}} cambió {_NAME} a {{q}}{{subject}}{{qc}}"),
        ("subject_changed", rf"Cambiaste {_NAME} a {{q}}{{subject}}{{qc}}", "owner-actor"),
        ("icon_changed", rf"{{actor}} (?:cambió|eliminó) {_ICON}"),
        ("icon_changed", rf"(?:Cambiaste|Eliminaste) {_ICON}", "owner-actor"),
        (
            "admin_granted",
            r"Ahora eres (?:admin\.?|administrador(?:a)?)(?: del grupo)?",
            "owner-target",
        ),
        ("number_changed", r"{actor} cambió su número(?: de teléfono)? (?:a|por) {targets}"),
        ("number_changed", r"{actor} cambió a (?P<targets>\+[\d\s().-]+)"),
        ("added", rf"{{actor}} te {_ADD}", "owner-target"),
        ("added", rf"{{actor}} {_ADD} a {{targets}}"),
        ("added", rf"{_ADD_YOU} a {{targets}}", "owner-actor"),
        ("removed", r"{actor} te (?:eliminó|expulsó)", "owner-target"),
        ("removed", r"{actor} (?:eliminó|expulsó) a {targets}"),
        ("removed", r"(?:Eliminaste|Expulsaste) a {targets}", "owner-actor"),
        ("left", r"{actor} salió(?: del grupo)?"),
        ("left", r"Saliste(?: del grupo)?", "owner-actor"),
        ("other", r"Los mensajes y las llamadas están cifrados de extremo a extremo\b.*"),
        ("other", r"(?:.+? cambió|Cambiaste) la descripción del grupo.*"),
        (
            "other",
            r"(?:.+? cambió|Cambiaste) (?:la configuración|los ajustes) (?:de este grupo|del grupo).*",
        ),
        ("other", r"Tu código de seguridad con .+ cambió.*"),
        ("other", r"Llamada (?:de voz|de video|de vídeo) perdida.*"),
    ),
    "keywords": (
        "creó",
        "Creaste",
        "se unió",
        "Te uniste",
        "cambió",
        "Cambiaste",
        "eliminó",
        "Eliminaste",
        "expulsó",
        "Expulsaste",
        "Ahora eres",
        "añadió",
        "agregó",
        "Añadiste",
        "Agregaste",
        "salió",
        "Saliste",
        "cifrados",
        "código de seguridad",
        "Llamada",
    ),
    "owner_words": ("Tú", "tú", "ti"),
    "and_words": ("y", "e"),
    "target_article": "a",
    "attached_android": ("archivo adjunto",),
    "attached_ios": ("adjunto",),
    "omitted_android": ("<Multimedia omitido>", "<Multimedia omitida>", "<Archivo omitido>"),
    "omitted_ios": {
        "imagen omitida": "image",
        "video omitido": "video",
        "vídeo omitido": "video",
        "audio omitido": "audio",
        "sticker omitido": "sticker",
        "GIF omitido": "video",
        "documento omitido": "document",
        "tarjeta de contacto omitida": "contact",
    },
    "chat_file": ("Chat de WhatsApp con", "Chat de WhatsApp -"),
    "samples": (
        ("Alice creó el grupo \u201cGarden Club\u201d", "created", "Alice", (), "Garden Club"),
        ('Creaste el grupo "Garden Club"', "created", "You", (), "Garden Club"),
        ("Alice te añadió", "added", "Alice", ("You",), None),
        ("Alice añadió a Bob", "added", "Alice", ("Bob",), None),
        ("Alice agregó a Bob, Carol y Dave", "added", "Alice", ("Bob", "Carol", "Dave"), None),
        ("Añadiste a Bob", "added", "You", ("Bob",), None),
        (
            "+34 612 34 56 78 se unió usando el enlace de invitación de este grupo",
            "joined_invite",
            "+34 612 34 56 78",
            (),
            None,
        ),
        (
            "Alice cambió el asunto de \u201cA\u201d a \u201cB\u201d",
            "subject_changed",
            "Alice",
            (),
            "B",
        ),
        ("Alice cambió el nombre del grupo a \u201cB\u201d", "subject_changed", "Alice", (), "B"),
        ("Ahora eres admin. del grupo", "admin_granted", None, ("You",), None),
        ("Erin salió", "left", "Erin", (), None),
        ("Erin salió del grupo", "left", "Erin", (), None),
        ("Saliste", "left", "You", (), None),
        ("Alice eliminó a Dave", "removed", "Alice", ("Dave",), None),
        ("Alice te eliminó", "removed", "Alice", ("You",), None),
        ("Alice cambió el ícono de este grupo", "icon_changed", "Alice", (), None),
    ),
}
