# language: de
@UC:UC_3.8 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: UC 3.8 – Nachricht durch Versicherten löschen
  Der Versicherte löscht in der E-Rezept-App eine Nachricht, die er selbst geschickt hat
  (DELETE /Communication/<id>). Hat der Empfänger sie schon abgerufen, meldet der Fachdienst das im
  Header Warning mit dem Zeitpunkt des Abrufs. Danach ist die Nachricht für niemanden mehr abrufbar.
  Nachrichten anderer – auch an ihn adressierte – darf er nicht löschen.

  @TCID:ERP_UC38_001 @TESTFALL:positiv @AFO-ID:A_20260 @AFO-ID:A_20261
  Szenario: Der Versicherte löscht eine Zuweisung, bevor die Apotheke sie abgerufen hat
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Wenn "Jonas Keller" seine letzte Nachricht an "Apotheke am Markt" löscht
    Dann bestätigt der Fachdienst das Löschen der Nachricht ohne Warnung
    Und erhält "Apotheke am Markt" die gelöschte Nachricht nicht mehr

  @TCID:ERP_UC38_002 @TESTFALL:positiv @AFO-ID:A_20260 @AFO-ID:A_20261
  Szenario: Der Versicherte löscht eine Nachricht, die der Vertreter schon abgerufen hat, und erhält eine Warnung
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept mit dem Text "Bitte abholen" an "Anna Richter" geschickt
    Und "Anna Richter" ihre Nachrichten in der App abruft
    Wenn "Jonas Keller" seine letzte Nachricht an "Anna Richter" löscht
    Dann bestätigt der Fachdienst das Löschen der Nachricht mit der Warnung, dass sie bereits abgerufen wurde
    Und sieht "Anna Richter" die gelöschte Nachricht nicht mehr

  @TCID:ERP_UC38_003 @TESTFALL:negativ @AFO-ID:A_20261 @AFO-ID:A_18851
  Szenario: Der Empfänger kann die Nachricht eines anderen Versicherten nicht löschen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept mit dem Text "Bitte abholen" an "Anna Richter" geschickt
    Wenn "Anna Richter" versucht, die letzte Nachricht von "Jonas Keller" an "Anna Richter" zu löschen
    Dann lehnt der Fachdienst das Löschen der Nachricht mit 401 und dem Text "<Aufrufer> is not allowed to delete communication for id <ID>" ab
    Und ist die Nachricht von "Jonas Keller" an "Anna Richter" beim Fachdienst noch vorhanden

  @TCID:ERP_UC38_004 @TESTFALL:negativ @AFO-ID:A_20261
  Szenario: Eine nicht vorhandene Nachricht kann der Versicherte nicht löschen
    Angenommen "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" versucht, eine nicht vorhandene Nachricht zu löschen
    Dann lehnt der Fachdienst das Löschen der Nachricht mit 404 und dem Text "No communication found for id <ID>" ab
