# language: de
@UC:UC_4.2 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.2 – E-Rezept durch Abgebenden zurückgeben
  Die Apotheke gibt ein abgerufenes E-Rezept mit $reject und ihrem Secret an den Fachdienst zurück. Das
  E-Rezept ist danach wieder einlösbar: eine andere Apotheke kann es mit demselben E-Rezept-Token abrufen.

  @TCID:ERP_UC42_001 @TESTFALL:positiv @AFO-ID:A_18512 @AFO-ID:A_18561
  Szenario: Die Apotheke gibt das E-Rezept zurück und eine andere Apotheke kann es abrufen
    Angenommen die "Praxis Dr. Hanna Ebert" hat mit dem HBA von "Dr. Hanna Ebert" 1 E-Rezept für "Jonas Keller" ausgestellt und als DataMatrix-Code gedruckt
    Und das AVS der "Apotheke am Markt" ist mit der SMC-B am Konnektor angemeldet
    Und das AVS der "Apotheke am Markt" hat den DataMatrix-Code gescannt und das E-Rezept abgerufen
    Wenn das AVS der "Apotheke am Markt" das E-Rezept an den Fachdienst zurückgibt
    Dann hat der Fachdienst die Rückgabe angenommen und das AVS das Secret verworfen
    Wenn die SMC-B der "Apotheke am Markt" ist gezogen und das AVS der "Löwen-Apotheke" ist mit deren SMC-B am Konnektor angemeldet
    Und das AVS der "Löwen-Apotheke" den DataMatrix-Code scannt
    Und das AVS der "Löwen-Apotheke" versucht, das E-Rezept beim Fachdienst abzurufen
    Dann hat die "Löwen-Apotheke" das zurückgegebene E-Rezept mit einem neuen Secret abgerufen
