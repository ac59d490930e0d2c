"""Default entries of the editable reference lists, in the CNIL template's words.

The lists follow the drop-down lists of the CNIL's simplified register template
("modèle de registre simplifié", 2019), completed with the Art. 9 and Art. 10
categories. A data migration copies them once; users then edit them freely.
"""

DATA_SUBJECTS = [
    "Salariés",
    "Services internes",
    "Clients",
    "Fournisseurs",
    "Prestataires",
    "Prospects",
    "Prospects professionnels",
    "Candidats",
    "Abonnés à la newsletter",
    "Personnes exerçant leurs droits",
]

# (label, sensitivity): "special" is Art. 9, "criminal" is Art. 10.
PERSONAL_DATA = [
    ("État civil, identité, données d'identification, images", "standard"),
    ("Coordonnées professionnelles", "standard"),
    ("Vie personnelle (habitudes de vie, situation familiale)", "standard"),
    ("Vie professionnelle (CV, formation, distinctions)", "standard"),
    ("Informations d'ordre économique et financier", "standard"),
    ("Données de connexion (adresse IP, logs)", "standard"),
    ("Données de localisation (déplacements, GPS)", "standard"),
    ("Numéro de Sécurité sociale (NIR)", "standard"),
    ("Données révélant l'origine raciale ou ethnique", "special"),
    ("Données révélant les opinions politiques", "special"),
    ("Données révélant les convictions religieuses ou philosophiques", "special"),
    ("Données révélant l'appartenance syndicale", "special"),
    ("Données génétiques", "special"),
    ("Données biométriques aux fins d'identifier une personne", "special"),
    ("Données concernant la santé", "special"),
    ("Données concernant la vie sexuelle ou l'orientation sexuelle", "special"),
    ("Données relatives aux condamnations pénales ou infractions", "criminal"),
]

RECIPIENTS = [
    "Service interne qui traite les données",
    "Sous-traitants",
    "Destinataires dans des pays tiers ou organisations internationales",
    "Partenaires institutionnels ou commerciaux",
    "Autorités publiques (sur demande légale)",
]

SECURITY_MEASURES = [
    "Mesures de traçabilité",
    "Mesures de protection des logiciels",
    "Sauvegarde des données",
    "Chiffrement des données",
    "Contrôle d'accès des utilisateurs",
    "Contrôle des sous-traitants",
]

DATA_SOURCES = [
    "Directement auprès de la personne",
    "Fichier acheté ou loué auprès d'un fournisseur",
    "Sources publiques (annuaires, sites web professionnels)",
    "Partenaires commerciaux",
]
