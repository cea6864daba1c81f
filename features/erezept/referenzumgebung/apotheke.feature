# language: de
@PRODUKT:eRp_FD @PRODUKT:AVS @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: Referenzumgebung – Szenarien der Apotheke
  gematiks E2E-Szenarien der Apotheke (../shared/reference/ru-dumps/Apotheke), nachgespielt mit unseren
  Personas: "Dr. Hanna Ebert" verordnet in ihrer Praxis über PVS, Konnektor und HBA, die Versicherten (eGK-Personas)
  weisen per DataMatrix-Code zu, die "Apotheke am Markt" (zweite Apotheke: "Löwen-Apotheke") arbeitet mit
  ihrem AVS über die VAU. Jede Antwort des Fachdienstes, die die Aufzeichnung festhält, wird mit Status und
  OperationOutcome-Texten gegen die Aufzeichnung geprüft (Schrittnummer = Nummer der aufgezeichneten Datei).
  Was die Versicherten lesen (GET /Task/<id>, GET /MedicationDispense), liest ihre E-Rezept-App mit der eGK über
  ihren VAU-Kanal; verglichen werden Status und die Einträge des Bundles. Die PKV-Abrechnungsszenarien (ChargeItem, Consent) sind nicht
  Teil von gemSysL_eRp 1.1.0: von ihnen wird der Task-Teil (Verordnen, Akzeptieren, Dispensieren) nachgespielt.

  @RU-Dump:Apotheke/dispensieren_mit_falschem_secret_nicht_möglich @Workflow:160
  @TCID:ERP_RU_001 @TESTFALL:negativ @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18524 @AFO-ID:A_18562
  Szenario: Dispensieren mit falschem Secret nicht möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Apotheke "Apotheke am Markt" versucht, das E-Rezept mit dem falschen Secret "fgdkjfgd" zu dispensieren
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18524)
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 011; A_18562)

  @RU-Dump:Apotheke/löschen_mit_falschem_secret_nicht_möglich @Workflow:160
  @TCID:ERP_RU_002 @TESTFALL:negativ @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18524 @AFO-ID:A_18562
  Szenario: Löschen mit falschem Secret nicht möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Apotheke "Apotheke am Markt" versucht, das E-Rezept mit dem falschen Secret "fgdkjfgd" zu löschen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 008; A_18524)
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 010; A_18562)

  @RU-Dump:Apotheke/e_rezept_kann_nicht_durch_eine_zweite_apotheke_reserviert_werden @Workflow:160
  @TCID:ERP_RU_003 @TESTFALL:negativ @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18522 @AFO-ID:A_18562
  Szenario: E-Rezept kann nicht durch eine zweite Apotheke reserviert werden
    Die Aufzeichnung nennt bei der zweiten Apotheke zusätzlich "Task is processed by requesting institution". Diesen
    Zusatz verlangt gemSpec_FD_eRp (A_19168-01) nur, wenn die Telematik-ID im Token die des Task.owner ist – so
    macht es auch der Produktionscode; unsere zweite Apotheke hat eine andere Telematik-ID: der Zusatz fehlt.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die SMC-B der "Apotheke am Markt" ist gezogen und das AVS der "Löwen-Apotheke" ist mit deren SMC-B am Konnektor angemeldet
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Löwen-Apotheke" zu
    Und die Apotheke "Löwen-Apotheke" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 008; A_18522), ohne den Zusatz "Task is processed by requesting institution"
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 010; A_18562)

  @RU-Dump:Apotheke/zweimaliges_akzeptieren_des_e_rezepts_durch_gleiche_apotheke_nicht_möglich @Workflow:160
  @TCID:ERP_RU_004 @TESTFALL:negativ @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18522 @AFO-ID:A_18562
  Szenario: Zweimaliges Akzeptieren des E-Rezepts durch gleiche Apotheke nicht möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 008; A_18522)
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 010; A_18562)

  @RU-Dump:Apotheke/zweimaliges_akzeptieren_des_e_rezepts_durch_gleiche_apotheke_nach_datenverlust_möglich @Workflow:160
  @TCID:ERP_RU_005 @TESTFALL:positiv @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18559 @AFO-ID:A_18826 @AFO-ID:A_18562
  Szenario: Zweimaliges Akzeptieren des E-Rezepts durch gleiche Apotheke nach Datenverlust möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Apotheke "Apotheke am Markt" verliert das E-Rezept und ruft es mit dem AccessCode erneut ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 008; A_18826)
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 010; A_18562)

  @RU-Dump:Apotheke/abrufen_eines_e_rezeptes_ohne_vorheriges_akzeptieren @Workflow:160
  @TCID:ERP_RU_006 @TESTFALL:negativ @UC:UC_2.3 @AFO-ID:A_18556 @AFO-ID:A_18522
  Szenario: Abrufen eines E-Rezeptes ohne vorheriges Akzeptieren
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 005; A_18556)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" versucht, das nicht akzeptierte E-Rezept mit dem AccessCode abzurufen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18522)

  @RU-Dump:Apotheke/löschen_des_e_rezepts_durch_apotheke_nicht_möglich__weil_nicht_akzeptiert @Workflow:160
  @TCID:ERP_RU_007 @TESTFALL:negativ @UC:UC_4.3 @AFO-ID:A_18560 @AFO-ID:A_18522
  Szenario: Löschen des E-Rezepts durch Apotheke nicht möglich, weil nicht akzeptiert
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" versucht, das nicht akzeptierte E-Rezept zu löschen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18560, A_18522)

  @RU-Dump:Apotheke/einlösen_des_e_rezepts_nicht_möglich__weil_durch_apotheke_gelöscht @Workflow:160
  @TCID:ERP_RU_008 @TESTFALL:negativ @UC:UC_4.1 @AFO-ID:A_18559 @AFO-ID:A_18952
  Szenario: Einlösen des E-Rezepts nicht möglich, weil durch Apotheke gelöscht
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Apotheke "Apotheke am Markt" löscht das E-Rezept
    Und die Apotheke "Apotheke am Markt" versucht, das E-Rezept mit ihrem früheren Secret zu dispensieren
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18952)

  @RU-Dump:Apotheke/einlösen_des_e_rezepts_nicht_möglich__weil_durch_apotheke_zurückgegeben @Workflow:160
  @TCID:ERP_RU_009 @TESTFALL:negativ @UC:UC_4.1 @AFO-ID:A_18559 @AFO-ID:A_18522
  Szenario: Einlösen des E-Rezepts nicht möglich, weil durch Apotheke zurückgegeben
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18559)
    Wenn die Apotheke "Apotheke am Markt" gibt das E-Rezept an den Fachdienst zurück
    Und die Apotheke "Apotheke am Markt" versucht, das E-Rezept mit ihrem früheren Secret zu dispensieren
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18522)

  @RU-Dump:Apotheke/erneutes_dispensieren_durch_die_gleiche_apotheke_nicht_möglich @Workflow:160
  @TCID:ERP_RU_010 @TESTFALL:negativ @UC:UC_4.4 @AFO-ID:A_18562 @AFO-ID:A_18522
  Szenario: Erneutes Dispensieren durch die gleiche Apotheke nicht möglich
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Und die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 009; A_18562)
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 011; A_18522)

  @RU-Dump:Apotheke/quittung_erneut_abfragen @Workflow:160
  @TCID:ERP_RU_011 @TESTFALL:positiv @UC:UC_4.4 @UC:UC_4.8 @AFO-ID:A_18562 @AFO-ID:A_19125
  Szenario: Quittung erneut abfragen
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Und die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Und die Apotheke "Apotheke am Markt" ruft die Quittung erneut ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 009, 010; A_18562, A_19125)

  @RU-Dump:Apotheke/apotheke_darf_dispensierinformationen_nicht_abrufen @Workflow:160
  @TCID:ERP_RU_012 @TESTFALL:negativ @UC:UC_4.4 @AFO-ID:A_18562 @AFO-ID:A_18739
  Szenario: Apotheke darf Dispensierinformationen nicht abrufen
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" ein apothekenpflichtiges Medikament
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Und die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Wenn die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Und die Apotheke "Apotheke am Markt" versucht, die Dispensierinformationen abzurufen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 009, 010; A_18562, A_18739)

  @RU-Dump:Apotheke/ein_apotheker_darf_kein_e_rezept_signieren @Workflow:160
  @TCID:ERP_RU_013 @TESTFALL:negativ @UC:UC_2.3 @AFO-ID:A_18556
  Szenario: Ein Apotheker darf kein E-Rezept signieren
    Angenommen der HBA von "Katrin Schäfer" steckt in einem freien Kartenleser der Praxis
    Wenn die Apothekerin "Katrin Schäfer" versucht, in der "Praxis Dr. Hanna Ebert" mit ihrem HBA ein E-Rezept für "Jonas Keller" auszustellen
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)

  @RU-Dump:Apotheke/erstes_teilrezept_einer_mehrfachverordnung_einlösen @Workflow:160
  @TCID:ERP_RU_014 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562 @AFO-ID:A_19140
  Szenario: Erstes Teilrezept einer Mehrfachverordnung einlösen
    Was die Versicherte erhalten hat ("genau 1 Medikament"), hält die Aufzeichnung ohne Antwort fest: die App liest
    die Dispensierinformation und findet genau das abgegebene Medikament.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" folgende Mehrfachverordnung:
      | Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |
      | 1         | 4           | 0                 | 90               |
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 005; A_18556)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18559, A_18562)
    Und hat "Jonas Keller" von der "Apotheke am Markt" genau 1 Medikament erhalten

  @RU-Dump:Apotheke/teilrezept_nicht_einlösbar__wenn_start_des_gütligkeitszeitraums_noch_nicht_erreicht @Workflow:160
  @TCID:ERP_RU_015 @TESTFALL:negativ @UC:UC_2.3 @UC:UC_3.1 @UC:UC_4.1 @PRODUKT:FdV @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18506 @AFO-ID:A_18868
  Szenario: Teilrezept nicht einlösbar, wenn Start des Gütligkeitszeitraums noch nicht erreicht
    Die Aufzeichnung nennt das Datum, ab dem die Teilverordnung einlösbar ist (90 Tage nach dem Ausstellen am 28.03.2025);
    verglichen wird mit dem Datum 90 Tage nach unserem Ausstellungstag.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Jonas Keller" folgende Mehrfachverordnung:
      | Numerator | Denominator | Gueltigkeitsstart | Gueltigkeitsende |
      | 4         | 4           | 90                | 180              |
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 005; A_18556)
    Und "Jonas Keller" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Dann wird der Versicherten "Jonas Keller" das neue E-Rezept in der App angezeigt
    Und antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 007; A_18506, A_18868)
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritt 008; A_18559)

  @Workflow:200 @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenariogrundriss: <Szenario>
    Nur der Task-Teil der PKV-Abrechnungsszenarien: Einwilligung (Consent), Abrechnungsinformation (ChargeItem)
    und die Nachrichten dazu definiert gemSysL_eRp 1.1.0 nicht; diese Schritte fehlen, auch die leere JSON-Suche
    des Versicherten im Dispensierschritt (Schritt 011, vor dem POST /ChargeItem; zur Deutung siehe ERP_RU_016). Nachgespielt werden
    Einstellen, Akzeptieren und Dispensieren mit Quittung (Workflow 200) mit ihren aufgezeichneten Antworten.
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Claudia Neumann" ein apothekenpflichtiges Medikament
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 002, 006; A_18556)
    Und "Claudia Neumann" weist das E-Rezept per DataMatrix-Code der "Apotheke am Markt" zu
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010; A_18559, A_18562)

    @RU-Dump:Apotheke/abrufen_der_abrechnungsinformationen_durch_eine_apotheke_mit_accesscode @TCID:ERP_RU_031 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Abrufen der Abrechnungsinformationen durch eine Apotheke mit AccessCode |

    @RU-Dump:Apotheke/abrufen_der_abrechnungsinformationen_durch_einen_apotheker_mit_falschem_accesscode @TCID:ERP_RU_032 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Abrufen der Abrechnungsinformationen durch einen Apotheker mit falschem AccessCode |

    @RU-Dump:Apotheke/bereitstellen_der_pkv_abrechnungsinformationen_durch_die_apotheke @TCID:ERP_RU_033 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Bereitstellen der PKV-Abrechnungsinformationen durch die Apotheke |

    @RU-Dump:Apotheke/bereitstellen_der_pkv_abrechnungsinformationen_nicht_möglich__weil_e_rezept_gelöscht_wurde @TCID:ERP_RU_034 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Bereitstellen der PKV-Abrechnungsinformationen nicht möglich, weil E-Rezept gelöscht wurde |

    @RU-Dump:Apotheke/keine_pkv_abrechnungsinformationen_bereitstellen__wenn_keine_einwilligung_erteilt @TCID:ERP_RU_035 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Keine PKV-Abrechnungsinformationen bereitstellen, wenn keine Einwilligung erteilt |

    @RU-Dump:Apotheke/keine_pkv_abrechnungsinformationen_bereitstellen_bei_ungültigem_secret @TCID:ERP_RU_036 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Keine PKV-Abrechnungsinformationen bereitstellen bei ungültigem Secret |

    @RU-Dump:Apotheke/ändern_des_pkv_abgabedatensatzes_auf_wunsch_des_versicherten__übertragung_des_accesscodes_per_nachricht @TCID:ERP_RU_037 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Ändern des PKV-Abgabedatensatzes auf Wunsch des Versicherten, Übertragung des AccessCodes per Nachricht |

    @RU-Dump:Apotheke/ändern_des_pkv_abgabedatensatzes_nicht_möglich__weil_einwilligung_widerrufen @TCID:ERP_RU_038 @TESTFALL:positiv
    Beispiele:
      | Szenario |
      | Ändern des PKV-Abgabedatensatzes nicht möglich, weil Einwilligung widerrufen |

  @RU-Dump:Apotheke/bereitstellen_der_abrechnungsinformationen_durch_die_apotheke__wf_209_ @Workflow:209
  @TCID:ERP_RU_039 @TESTFALL:positiv @UC:UC_2.3 @UC:UC_4.1 @UC:UC_4.4 @AFO-ID:A_18556 @AFO-ID:A_18559 @AFO-ID:A_18562
  Szenario: Bereitstellen der Abrechnungsinformationen durch die Apotheke (WF 209)
    Nur der Task-Teil: Einwilligung (Consent, Schritt 007) und Abrechnungsinformation (ChargeItem) definiert
    gemSysL_eRp 1.1.0 nicht; diese Schritte fehlen, auch die leere JSON-Suche des Versicherten im
    Dispensierschritt (Schritt 011; siehe ERP_RU_016).
    Angenommen die Ärztin "Dr. Hanna Ebert" der "Praxis Dr. Hanna Ebert" verschreibt "Claudia Neumann" ein apothekenpflichtiges Medikament und weist es der "Apotheke am Markt" direkt zu
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 001, 005; A_18556)
    Wenn die Apotheke "Apotheke am Markt" akzeptiert das E-Rezept beim Fachdienst
    Und die Apotheke "Apotheke am Markt" dispensiert das E-Rezept und schließt den Workflow ab
    Dann antwortet der Fachdienst wie in der Referenzumgebung aufgezeichnet (Schritte 008, 010; A_18559, A_18562)
