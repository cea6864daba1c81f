# language: de
@UC:UC_4.3 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.3 – E-Rezept durch Abgebenden löschen
  Die Apotheke löscht ein E-Rezept, das sie abgerufen hat (Status "in-progress"), mit $abort und ihrem
  Secret. Danach ist das E-Rezept gelöscht; jeder weitere Zugriff wird mit 410 abgelehnt. Ein nicht
  abgerufenes E-Rezept und ein falsches Secret lehnt der Fachdienst ab.

  @TCID:ERP_UC43_001 @TESTFALL:positiv @AFO-ID:A_18513 @AFO-ID:A_18560 @AFO-ID:A_18952 @AFO-ID:A_18747
  Szenario: Die Apotheke löscht das abgerufene E-Rezept, danach ist es nicht mehr abrufbar
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Wenn das AVS der "Apotheke am Markt" das E-Rezept löscht
    Dann hat der Fachdienst das Löschen angenommen
    Wenn das AVS der "Apotheke am Markt" den DataMatrix-Code scannt
    Und das AVS der "Apotheke am Markt" versucht, das E-Rezept beim Fachdienst abzurufen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 410 und dem Text "Task meanwhile deleted for prescription id" ab
    Und zeigt das AVS den aktuellen Status "cancelled" des E-Rezepts an

  @TCID:ERP_UC43_002 @TESTFALL:negativ @AFO-ID:A_18560 @AFO-ID:A_18522 @AFO-ID:A_18747
  Szenario: Ein nicht abgerufenes E-Rezept kann die Apotheke nicht löschen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt
    Wenn das AVS der "Apotheke am Markt" versucht, das E-Rezept mit einem ausgedachten Secret zu löschen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 403 und dem Text "Task must be in progress for user pharmacy, is: ready" ab
    Und zeigt das AVS den aktuellen Status "ready" des E-Rezepts an

  @TCID:ERP_UC43_003 @TESTFALL:negativ @AFO-ID:A_18560
  Szenario: Mit einem falschen Secret kann die Apotheke das E-Rezept nicht löschen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Wenn das AVS der "Apotheke am Markt" versucht, das E-Rezept mit einem falschen Secret zu löschen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 403 und dem Text "No or invalid secret provided for user pharmacy" ab
