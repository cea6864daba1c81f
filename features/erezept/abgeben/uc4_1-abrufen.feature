# language: de
@UC:UC_4.1 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.1 – E-Rezept durch Abgebenden abrufen
  Die Praxis "Praxis Dr. Hanna Ebert" stellt mit dem simulierten PVS ein E-Rezept aus und druckt den
  E-Rezept-Token als DataMatrix-Code. Die "Apotheke am Markt" steckt ihre SMC-B, meldet sich am IDP an,
  scannt den Code mit dem AVS und ruft das E-Rezept über die VAU mit $accept ab. Das AVS speichert
  AccessCode und Secret und prüft die QES der Ärztin über den Konnektor (VerifyDocument).

  @TCID:ERP_UC41_001 @TESTFALL:positiv @PRODUKT:Konnektor
  @AFO-ID:A_18511 @AFO-ID:A_18559 @AFO-ID:A_18548 @AFO-ID:A_18791 @AFO-ID:A_18553 @AFO-ID:A_18551 @AFO-ID:A_18552
  Szenario: Die Apotheke scannt den DataMatrix-Code, ruft das E-Rezept ab und prüft die QES der Ärztin
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Wenn das AVS der "Apotheke am Markt" den DataMatrix-Code scannt
    Dann hat das AVS die E-Rezept-Token aller 1 E-Rezepte aus dem Code gelesen und ihre AccessCodes gespeichert
    Wenn das AVS die gescannten E-Rezepte beim Fachdienst abruft
    Dann erhält das AVS je E-Rezept den Task im Status "in-progress" mit Secret und den signierten Verordnungsdatensatz der Praxis
    Und hat das AVS das Secret jedes abgerufenen E-Rezepts gespeichert
    Und hat das AVS die QES der Ärztin über den Konnektor als gültig geprüft und zeigt das E-Rezept ohne Warnung an

  @TCID:ERP_UC41_002 @TESTFALL:positiv
  @AFO-ID:A_18511 @AFO-ID:A_18559 @AFO-ID:A_18548 @AFO-ID:A_18791 @AFO-ID:A_18553
  Szenario: Ein DataMatrix-Code mit drei E-Rezept-Token wird gescannt und alle drei E-Rezepte werden abgerufen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 3 E-Rezepte für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Wenn das AVS der "Apotheke am Markt" den DataMatrix-Code scannt
    Dann hat das AVS die E-Rezept-Token aller 3 E-Rezepte aus dem Code gelesen und ihre AccessCodes gespeichert
    Wenn das AVS die gescannten E-Rezepte beim Fachdienst abruft
    Dann erhält das AVS je E-Rezept den Task im Status "in-progress" mit Secret und den signierten Verordnungsdatensatz der Praxis
    Und hat das AVS das Secret jedes abgerufenen E-Rezepts gespeichert

  @TCID:ERP_UC41_003 @TESTFALL:negativ @PRODUKT:Konnektor @AFO-ID:A_18551 @AFO-ID:A_18552
  Szenario: Ist die Signaturprüfung technisch nicht möglich, zeigt das AVS das E-Rezept mit einer Warnung an
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und der Konnektor ist für die Signaturprüfung des AVS nicht erreichbar
    Wenn das AVS der "Apotheke am Markt" den DataMatrix-Code scannt
    Und das AVS die gescannten E-Rezepte beim Fachdienst abruft
    Dann zeigt das AVS das E-Rezept an und warnt, dass die Signaturprüfung technisch nicht möglich war

  @TCID:ERP_UC41_004 @TESTFALL:negativ @AFO-ID:A_18522 @AFO-ID:A_18747
  Szenario: Ein von einer Apotheke abgerufenes E-Rezept kann eine zweite Apotheke nicht abrufen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Und die SMC-B der "Apotheke am Markt" ist gezogen und das AVS der "Löwen-Apotheke" ist mit deren SMC-B am Konnektor angemeldet
    Wenn das AVS der "Löwen-Apotheke" den DataMatrix-Code scannt
    Und das AVS der "Löwen-Apotheke" versucht, das E-Rezept beim Fachdienst abzurufen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 409 und dem Text "Task has invalid status in-progress" ab
    Und zeigt das AVS den aktuellen Status "in-progress" des E-Rezepts an

  @TCID:ERP_UC41_005 @TESTFALL:negativ @AFO-ID:A_18522 @AFO-ID:A_18747
  Szenario: Dieselbe Apotheke kann ein E-Rezept nicht zweimal abrufen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Wenn das AVS der "Apotheke am Markt" versucht, das E-Rezept beim Fachdienst abzurufen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 409 und dem Text "Task has invalid status in-progress" ab
    Und nennt der Fachdienst zusätzlich den Text "Task is processed by requesting institution"
    Und zeigt das AVS den aktuellen Status "in-progress" des E-Rezepts an
