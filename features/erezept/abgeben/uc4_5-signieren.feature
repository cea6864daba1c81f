# language: de
@UC:UC_4.5 @PRODUKT:AVS @PRODUKT:Konnektor @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.5 – Dispensierdatensatz durch Abgebenden signieren
  Ohne Änderung der Verschreibung signiert ein Mitarbeiter der Apotheke den Dispensierdatensatz mit einer
  fortgeschrittenen Signatur der SMC-B (OSIG); bei einer Abgabe mit Änderung nach § 17 (5) ApoBetrO
  signiert die Apothekerin mit der QES ihres HBA. Signiert wird über SignDocument des Konnektors.

  @TCID:ERP_UC45_001 @TESTFALL:positiv @AFO-ID:A_18515
  Szenario: Ein Mitarbeiter signiert den Dispensierdatensatz mit der SMC-B der Apotheke
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Und das AVS der "Apotheke am Markt" hat die Abgabe mit dem Dispensierdatensatz abgeschlossen
    Wenn das AVS den Dispensierdatensatz mit der SMC-B der Apotheke signiert
    Dann ist der Dispensierdatensatz mit dem OSIG-Zertifikat der "Apotheke am Markt" gültig signiert

  @TCID:ERP_UC45_002 @TESTFALL:positiv @AFO-ID:A_18515
  Szenario: Die Apothekerin signiert den Dispensierdatensatz nach einer Änderung mit der QES ihres HBA
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" mit der Apothekerin "Katrin Schäfer" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Und das AVS der "Apotheke am Markt" hat die Abgabe mit dem Dispensierdatensatz abgeschlossen
    Und die SMC-B der "Apotheke am Markt" ist gezogen und der HBA von "Katrin Schäfer" steckt im Kartenterminal der Apotheke
    Wenn das AVS den Dispensierdatensatz mit der QES des HBA der Apothekerin signiert
    Dann ist der Dispensierdatensatz mit dem QES-Zertifikat von "Katrin Schäfer" gültig signiert
