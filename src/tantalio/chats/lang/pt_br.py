"""Portuguese as phones in Brazil write it ("Você", "adicionou você", "<Mídia oculta>")."""

# ruff: noqa: E501  (a WhatsApp sentence reads better unbroken)

_NAME = r"(?:o assunto|o nome do grupo)"
_LINK = (
    r"(?:usando|pelo|por meio do|através do|com) (?:o )?link de convite(?: deste grupo| do grupo)?"
)
_ICON = r"(?:a imagem|a foto|o ícone) (?:deste grupo|do grupo)"

LANGUAGE = {
    "code": "pt-BR",
    "name": "Portuguese (Brazil)",
    "rules": (
        ("created", r"{actor} criou o grupo {q}{subject}{qc}"),
        ("created", r"{actor} criou este grupo"),
        ("joined_invite", rf"{{actor}} entrou(?: no grupo)? {_LINK}"),
        (
            "subject_changed",
            rf"{{actor}} (?:mudou|alterou) {_NAME} de {{q}}{{old}}{{qc}} para {{q}}{{subject}}{{qc}}",
        ),
        ("subject_changed", rf"{{actor}} (?:mudou|alterou) {_NAME} para {{q}}{{subject}}{{qc}}"),
        ("icon_changed", rf"{{actor}} (?:mudou|alterou|apagou|removeu) {_ICON}"),
        (
            "admin_granted",
            r"(?:Agora você é|Você agora é) (?:um )?admin(?:istrador(?:a)?)?(?: do grupo)?",
            "owner-target",
        ),
        ("number_changed", r"{actor} mudou (?:seu|o) número(?: de telefone)? para {targets}"),
        ("number_changed", r"{actor} mudou para (?P<targets>\+[\d\s().-]+)"),
        ("added", r"{actor} adicionou {targets}"),
        ("removed", r"{actor} removeu {targets}"),
        ("left", r"{actor} saiu(?: do grupo)?"),
        (
            "other",
            r"As mensagens e (?:as )?(?:chamadas|ligações) (?:são|estão) protegidas com a criptografia de ponta a ponta\b.*",
        ),
        ("other", r".+? (?:mudou|alterou) a descrição do grupo.*"),
        ("other", r".+? (?:mudou|alterou) as configurações (?:deste|do) grupo.*"),
        ("other", r"Seu código de segurança com .+ mudou.*"),
        ("other", r"Chamada de (?:voz|vídeo) perdida.*"),
    ),
    "keywords": (
        "criou",
        "entrou",
        "mudou",
        "alterou",
        "apagou",
        "removeu",
        "admin",
        "adicionou",
        "saiu",
        "criptografia",
        "código de segurança",
        "Chamada",
    ),
    "owner_words": ("Você", "você"),
    "and_words": ("e",),
    "attached_android": ("arquivo anexado",),
    "attached_ios": ("anexado",),
    "omitted_android": ("<Mídia oculta>", "<Arquivo de mídia oculto>"),
    "omitted_ios": {
        "imagem ocultada": "image",
        "imagem omitida": "image",
        "vídeo omitido": "video",
        "vídeo ocultado": "video",
        "áudio ocultado": "audio",
        "áudio omitido": "audio",
        "figurinha omitida": "sticker",
        "GIF omitido": "video",
        "documento omitido": "document",
        "cartão de contato omitido": "contact",
    },
    "chat_file": ("Conversa do WhatsApp com", "Conversa do WhatsApp -"),
    "samples": (
        ("Alice criou o grupo \u201cGarden Club\u201d", "created", "Alice", (), "Garden Club"),
        ('Você criou o grupo "Garden Club"', "created", "You", (), "Garden Club"),
        ("Alice adicionou você", "added", "Alice", ("You",), None),
        ("Alice adicionou Bob, Carol e Dave", "added", "Alice", ("Bob", "Carol", "Dave"), None),
        ("Você adicionou Bob", "added", "You", ("Bob",), None),
        (
            "+55 11 91234-5678 entrou usando o link de convite deste grupo",
            "joined_invite",
            "+55 11 91234-5678",
            (),
            None,
        ),
        (
            "Alice mudou o assunto de \u201cA\u201d para \u201cB\u201d",
            "subject_changed",
            "Alice",
            (),
            "B",
        ),
        ("Agora você é admin", "admin_granted", None, ("You",), None),
        ("Erin saiu", "left", "Erin", (), None),
        ("Alice removeu Dave", "removed", "Alice", ("Dave",), None),
        ("Alice removeu você", "removed", "Alice", ("You",), None),
        ("Alice mudou a imagem deste grupo", "icon_changed", "Alice", (), None),
    ),
}
