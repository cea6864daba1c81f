# language: de
@UC:UC_3.4 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: UC 3.4 – Nachrichten durch Versicherten empfangen
  Die E-Rezept-App fragt beim Fachdienst die Nachrichten des Versicherten ab (GET /Communication): die
  Antworten der Apotheken und die Nachrichten anderer Versicherter an seine KVNR, dazu seine eigenen
  gesendeten Nachrichten. Beim ersten Abruf durch den Empfänger vermerkt der Fachdienst den Zeitpunkt
  (received). Nachrichten zwischen anderen sieht der Versicherte nicht, auch nicht über ihre ID.

  @TCID:ERP_UC34_001 @TESTFALL:positiv @UC:UC_4.7 @AFO-ID:A_18618 @AFO-ID:A_18870 @AFO-ID:A_19013
  Szenario: Der Versicherte empfängt die Antwort der Apotheke mit dem Abholcode
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Und die "Apotheke am Markt" hat auf die Zuweisung von "Jonas Keller" mit dem Abholcode "K7X2M9QA" geantwortet
    Wenn "Jonas Keller" seine Nachrichten in der App abruft
    Dann erhält "Jonas Keller" die Antwort der "Apotheke am Markt" mit dem Abholcode "K7X2M9QA"
    Und sieht "Jonas Keller" die Nachricht von "Jonas Keller" an "Apotheke am Markt" als gesendet

  @TCID:ERP_UC34_002 @TESTFALL:negativ @AFO-ID:A_18870 @AFO-ID:A_18851
  Szenario: Nachrichten zwischen anderen Versicherten erhält der Versicherte nicht
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept mit dem Text "Nur für Claudia" an "Claudia Neumann" geschickt
    Wenn "Anna Richter" ihre Nachrichten in der App abruft
    Dann sieht "Anna Richter" die Nachricht von "Jonas Keller" an "Claudia Neumann" nicht
    Wenn "Anna Richter" versucht, die letzte Nachricht von "Jonas Keller" an "Claudia Neumann" zu lesen
    Dann findet der Fachdienst die Nachricht für "Anna Richter" nicht: 404 "no Communication found for id"
