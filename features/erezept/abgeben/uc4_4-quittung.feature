# language: de
@UC:UC_4.4 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.4 – Quittung abrufen
  Die Apotheke schließt die Abgabe mit $close, ihrem Secret und dem Dispensierdatensatz
  (MedicationDispense) ab. Der Fachdienst setzt das E-Rezept auf "completed" und gibt eine mit seiner
  Signaturidentität (C.FD.SIG) signierte Quittung zurück, die das AVS über den Konnektor prüft.

  @TCID:ERP_UC44_001 @TESTFALL:positiv @PRODUKT:Konnektor @AFO-ID:A_18514 @AFO-ID:A_18562 @AFO-ID:A_18523
  Szenario: Die Apotheke schließt die Abgabe ab und erhält eine signierte Quittung
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Wenn das AVS der "Apotheke am Markt" die Abgabe mit dem Dispensierdatensatz abschließt
    Dann erhält das AVS eine Quittung zum E-Rezept, deren Signatur des Fachdienstes der Konnektor als gültig bestätigt

  @TCID:ERP_UC44_002 @TESTFALL:negativ @AFO-ID:A_18562
  Szenario: Mit einem falschen Secret kann die Apotheke die Abgabe nicht abschließen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Wenn das AVS der "Apotheke am Markt" versucht, die Abgabe mit einem falschen Secret abzuschließen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 403 und dem Text "No or invalid secret provided for Task" ab

  @TCID:ERP_UC44_003 @TESTFALL:negativ @AFO-ID:A_18522 @AFO-ID:A_18747
  Szenario: Eine abgeschlossene Abgabe kann nicht erneut abgeschlossen werden
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Und das AVS der "Apotheke am Markt" hat die Abgabe mit dem Dispensierdatensatz abgeschlossen
    Wenn das AVS der "Apotheke am Markt" versucht, die Abgabe erneut abzuschließen
    Dann lehnt der Fachdienst die Operation mit HTTP-Status 403 und dem Text "Task has to be in progress, but is: completed" ab
    Und zeigt das AVS den aktuellen Status "completed" des E-Rezepts an
