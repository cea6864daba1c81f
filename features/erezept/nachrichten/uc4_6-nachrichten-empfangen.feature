# language: de
@UC:UC_4.6 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.6 – Nachrichten durch Abgebenden empfangen
  Das AVS der Apotheke fragt beim Fachdienst die Nachrichten für ihre Telematik-ID ab
  (GET /Communication), prüft den E-Rezept-Token einer Zuweisung und ruft das E-Rezept damit ab wie einen
  gescannten Token ($accept). Zuweisungen an andere Apotheken erhält es nicht.

  @TCID:ERP_UC46_001 @TESTFALL:positiv @UC:UC_3.3 @AFO-ID:A_18617 @AFO-ID:A_18758 @AFO-ID:A_18870 @AFO-ID:A_18508
  Szenario: Die Apotheke empfängt die Zuweisung per Nachricht und ruft das E-Rezept ab
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Wenn die "Apotheke am Markt" ihre Nachrichten abruft
    Dann erhält die "Apotheke am Markt" die Zuweisung von "Jonas Keller" mit dem E-Rezept-Token und dem Wunsch "Abholung"
    Wenn die "Apotheke am Markt" die per Nachricht zugewiesenen E-Rezepte annimmt
    Dann hat die "Apotheke am Markt" das per Nachricht zugewiesene E-Rezept von "Jonas Keller" mit Secret angenommen

  @TCID:ERP_UC46_002 @TESTFALL:negativ @AFO-ID:A_18870 @AFO-ID:A_18851
  Szenario: Die Zuweisung an eine andere Apotheke erhält die Apotheke nicht
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Löwen-Apotheke" zugewiesen
    Wenn die "Apotheke am Markt" ihre Nachrichten abruft
    Dann sieht "Apotheke am Markt" die Nachricht von "Jonas Keller" an "Löwen-Apotheke" nicht
    Wenn "Apotheke am Markt" versucht, die letzte Nachricht von "Jonas Keller" an "Löwen-Apotheke" zu lesen
    Dann findet der Fachdienst die Nachricht für "Apotheke am Markt" nicht: 404 "no Communication found for id"
