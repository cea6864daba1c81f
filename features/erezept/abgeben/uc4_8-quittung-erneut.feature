# language: de
@UC:UC_4.8 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.8 – Quittung erneut abrufen
  Nach abgeschlossener Abgabe ruft die Apotheke die Quittung mit GET /Task/<id>?secret= erneut ab.

  @TCID:ERP_UC48_001 @TESTFALL:positiv @PRODUKT:Konnektor @AFO-ID:A_19117 @AFO-ID:A_19125
  Szenario: Die Apotheke ruft die Quittung nach der Abgabe erneut ab
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Und das AVS der "Apotheke am Markt" hat die Abgabe mit dem Dispensierdatensatz abgeschlossen
    Wenn das AVS der "Apotheke am Markt" die Quittung erneut abruft
    Dann erhält das AVS den Task im Status "completed" und dieselbe vom Fachdienst signierte Quittung wie beim Abschluss
