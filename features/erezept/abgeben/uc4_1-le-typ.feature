# language: de
@UC:UC_4.1 @PRODUKT:eRp_FD @AFO-ID:A_20055 @simulator-only
Funktionalität: UC 4.1 – Prüfung des Leistungserbringer-Typs beim Abrufen eines E-Rezepts
  Ruft eine Einrichtung ein E-Rezept mit $accept ab, prüft der Fachdienst anhand der professionOID aus
  dem AuthN-Token ihrer SMC-B, ob sie für die Abgabe des Rezept-Typs berechtigt ist: E-Rezepte der
  Workflows 160, 169 (GKV) und 200, 209 (PKV) geben nur öffentliche Apotheken (1.2.276.0.76.4.54) und
  Krankenhausapotheken (1.2.276.0.76.4.55) ab. Arztpraxis, Zahnarztpraxis, Krankenhaus und Kostenträger
  erhalten das E-Rezept nicht; es bleibt für eine Apotheke einlösbar.
  Die SMC-B der abrufenden Einrichtung wird über die Admin-Schnittstelle des Kartendienstes in den
  freien Kartenleser gesteckt (@simulator-only).

  @TESTFALL:positiv @Hauptdarsteller:Apotheke
  Szenariogrundriss: Eine Apotheke (<Einrichtung>) erhält ein E-Rezept des Workflows <Workflow>
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" für "<Versicherter>" ein E-Rezept des Workflows "<Workflow>" ausgestellt
    Wenn "<Einrichtung>" mit ihrer SMC-B versucht, das E-Rezept beim Fachdienst abzurufen
    Dann übergibt der Fachdienst der Einrichtung das E-Rezept mit Secret

    @TCID:ERP_UC41_LE_001
    Beispiele: Öffentliche Apotheke
      | Workflow | Versicherter | Einrichtung |
      | 160 | Jonas Keller | Apotheke am Markt |
      | 169 | Jonas Keller | Apotheke am Markt |
      | 200 | Dr. Friedrich Hoffmann | Apotheke am Markt |
      | 209 | Dr. Friedrich Hoffmann | Apotheke am Markt |

    @TCID:ERP_UC41_LE_002
    Beispiele: Krankenhausapotheke
      | Workflow | Versicherter | Einrichtung |
      | 160 | Jonas Keller | Krankenhausapotheke Klinikum am See |
      | 169 | Jonas Keller | Krankenhausapotheke Klinikum am See |
      | 200 | Dr. Friedrich Hoffmann | Krankenhausapotheke Klinikum am See |
      | 209 | Dr. Friedrich Hoffmann | Krankenhausapotheke Klinikum am See |

  @TESTFALL:negativ
  Szenariogrundriss: Eine Einrichtung ohne Abgabeberechtigung (<Einrichtung>) erhält ein E-Rezept des Workflows <Workflow> nicht
    Angenommen die Praxis "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" für "<Versicherter>" ein E-Rezept des Workflows "<Workflow>" ausgestellt
    Wenn "<Einrichtung>" mit ihrer SMC-B versucht, das E-Rezept beim Fachdienst abzurufen
    Dann weist der Fachdienst den Abruf mit 403 und dem Text "endpoint is forbidden for professionOID <professionOID>" ab, das E-Rezept bleibt einlösbar

    @TCID:ERP_UC41_LE_003 @Hauptdarsteller:Arztpraxis
    Beispiele: Arztpraxis
      | Workflow | Versicherter | Einrichtung | professionOID |
      | 160 | Jonas Keller | Praxis Dr. Hanna Ebert | 1.2.276.0.76.4.50 |
      | 169 | Jonas Keller | Praxis Dr. Hanna Ebert | 1.2.276.0.76.4.50 |
      | 200 | Dr. Friedrich Hoffmann | Praxis Dr. Hanna Ebert | 1.2.276.0.76.4.50 |
      | 209 | Dr. Friedrich Hoffmann | Praxis Dr. Hanna Ebert | 1.2.276.0.76.4.50 |

    @TCID:ERP_UC41_LE_004 @Hauptdarsteller:Zahnarztpraxis
    Beispiele: Zahnarztpraxis
      | Workflow | Versicherter | Einrichtung | professionOID |
      | 160 | Jonas Keller | Zahnarztpraxis Dr. Lukas Brandt | 1.2.276.0.76.4.51 |
      | 169 | Jonas Keller | Zahnarztpraxis Dr. Lukas Brandt | 1.2.276.0.76.4.51 |
      | 200 | Dr. Friedrich Hoffmann | Zahnarztpraxis Dr. Lukas Brandt | 1.2.276.0.76.4.51 |
      | 209 | Dr. Friedrich Hoffmann | Zahnarztpraxis Dr. Lukas Brandt | 1.2.276.0.76.4.51 |

    @TCID:ERP_UC41_LE_005 @Hauptdarsteller:Krankenhaus
    Beispiele: Krankenhaus
      | Workflow | Versicherter | Einrichtung | professionOID |
      | 160 | Jonas Keller | Klinikum am See | 1.2.276.0.76.4.53 |
      | 169 | Jonas Keller | Klinikum am See | 1.2.276.0.76.4.53 |
      | 200 | Dr. Friedrich Hoffmann | Klinikum am See | 1.2.276.0.76.4.53 |
      | 209 | Dr. Friedrich Hoffmann | Klinikum am See | 1.2.276.0.76.4.53 |

    @TCID:ERP_UC41_LE_006 @Hauptdarsteller:Kostentraeger
    Beispiele: Kostenträger
      | Workflow | Versicherter | Einrichtung | professionOID |
      | 160 | Jonas Keller | Krankenkasse Nordlicht | 1.2.276.0.76.4.59 |
      | 169 | Jonas Keller | Krankenkasse Nordlicht | 1.2.276.0.76.4.59 |
      | 200 | Dr. Friedrich Hoffmann | Krankenkasse Nordlicht | 1.2.276.0.76.4.59 |
      | 209 | Dr. Friedrich Hoffmann | Krankenkasse Nordlicht | 1.2.276.0.76.4.59 |
