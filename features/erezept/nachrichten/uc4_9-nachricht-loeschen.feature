# language: de
@UC:UC_4.9 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.9 – Nachricht durch Abgebenden löschen
  Die Apotheke löscht eine Antwort, die sie selbst geschickt hat (DELETE /Communication/<id>). Hat der
  Versicherte sie schon abgerufen, meldet der Fachdienst das im Header Warning. Danach ist die Nachricht
  auch in der E-Rezept-App des Versicherten nicht mehr abrufbar. Die Zuweisung des Versicherten kann die
  Apotheke nicht löschen.

  @TCID:ERP_UC49_001 @TESTFALL:positiv @AFO-ID:A_20776 @AFO-ID:A_20261
  Szenario: Die Apotheke löscht ihre Antwort, bevor der Versicherte sie abgerufen hat
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Und die "Apotheke am Markt" hat auf die Zuweisung von "Jonas Keller" mit dem Abholcode "ZZ99YY88" geantwortet
    Wenn "Apotheke am Markt" ihre letzte Nachricht an "Jonas Keller" löscht
    Dann bestätigt der Fachdienst das Löschen der Nachricht ohne Warnung
    Und erhält "Jonas Keller" die gelöschte Nachricht nicht mehr

  @TCID:ERP_UC49_002 @TESTFALL:positiv @AFO-ID:A_20776 @AFO-ID:A_20261
  Szenario: Die Apotheke löscht eine Antwort, die der Versicherte schon abgerufen hat, und erhält eine Warnung
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Und die "Apotheke am Markt" hat auf die Zuweisung von "Jonas Keller" mit dem Abholcode "ZZ99YY88" geantwortet
    Und "Jonas Keller" seine Nachrichten in der App abruft
    Wenn "Apotheke am Markt" ihre letzte Nachricht an "Jonas Keller" löscht
    Dann bestätigt der Fachdienst das Löschen der Nachricht mit der Warnung, dass sie bereits abgerufen wurde
    Und erhält "Jonas Keller" die gelöschte Nachricht nicht mehr

  @TCID:ERP_UC49_003 @TESTFALL:negativ @AFO-ID:A_20261 @AFO-ID:A_18851
  Szenario: Die Zuweisung des Versicherten kann die Apotheke nicht löschen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Wenn "Apotheke am Markt" versucht, die letzte Nachricht von "Jonas Keller" an "Apotheke am Markt" zu löschen
    Dann lehnt der Fachdienst das Löschen der Nachricht mit 401 und dem Text "<Aufrufer> is not allowed to delete communication for id <ID>" ab
    Und ist die Nachricht von "Jonas Keller" an "Apotheke am Markt" beim Fachdienst noch vorhanden
