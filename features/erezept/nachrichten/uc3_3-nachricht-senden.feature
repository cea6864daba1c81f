# language: de
@UC:UC_3.3 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: UC 3.3 – Nachricht durch Versicherten übermitteln
  Der Versicherte lädt seine E-Rezepte in die E-Rezept-App (UC 3.1) und schickt den E-Rezept-Token mit
  einem Belieferungswunsch an eine Apotheke (Empfänger: Telematik-ID) oder mit einem Text an einen
  Vertreter (Empfänger: KVNR). Den Absender übernimmt der Fachdienst aus dem Token. Nicht erlaubt:
  Nachrichten an sich selbst, mehr als 10 Nachrichten je E-Rezept zwischen zwei Versicherten,
  Vertreter-Nachrichten zu eingelösten E-Rezepten, Zuweisungen von E-Rezepten, die schon in Abgabe sind,
  Zuweisungen durch einen Vertreter ohne AccessCode und jede Nachricht zwischen einer Prüfkarte eGK
  (Prüfidentität "Erika Mustermann", KVNR X000000428) und einem Versicherten – in beiden Richtungen.

  @TCID:ERP_UC33_001 @TESTFALL:positiv @AFO-ID:A_18508 @AFO-ID:A_18869
  Szenario: Der Versicherte weist sein E-Rezept per Nachricht einer Apotheke zu
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept per Nachricht der "Apotheke am Markt" mit dem Wunsch "Botendienst" zuweist
    Dann nimmt der Fachdienst die Nachricht an und setzt "Jonas Keller" als Absender
    Und enthält die Zuweisung an die "Apotheke am Markt" den E-Rezept-Token und den Wunsch "Botendienst"

  @TCID:ERP_UC33_002 @TESTFALL:positiv @UC:UC_3.4 @AFO-ID:A_18508 @AFO-ID:A_18869 @AFO-ID:A_18870 @AFO-ID:A_18618
  Szenario: Der Versicherte schickt sein E-Rezept mit einem Text an einen Vertreter
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept mit dem Text "Kannst du das bitte für mich abholen?" an "Anna Richter" schickt
    Dann nimmt der Fachdienst die Nachricht an und setzt "Jonas Keller" als Absender
    Wenn "Anna Richter" ihre Nachrichten in der App abruft
    Dann erhält "Anna Richter" die Nachricht von "Jonas Keller" mit dem E-Rezept-Token und dem Text "Kannst du das bitte für mich abholen?"

  @TCID:ERP_UC33_003 @TESTFALL:negativ @AFO-ID:A_18869 @AFO-ID:A_18851
  Szenario: Einen anderen Absender als sich selbst kann der Versicherte nicht angeben
    Der Absender im Nachrichtentext wird verworfen; der Fachdienst setzt die KVNR aus dem Token.
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" der "Apotheke am Markt" das letzte E-Rezept mit dem gefälschten Absender "Anna Richter" zuweist
    Dann nimmt der Fachdienst die Nachricht an und setzt "Jonas Keller" als Absender

  @TCID:ERP_UC33_004 @TESTFALL:negativ @AFO-ID:A_18851 @AFO-ID:A_18508
  Szenario: Nachrichten an sich selbst sind nicht erlaubt
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept mit dem Text "Erinnerung an mich" an "Jonas Keller" schickt
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "messages to self are not permitted" ab

  @TCID:ERP_UC33_005 @TESTFALL:negativ @AFO-ID:A_18851
  Szenario: Mehr als 10 Nachrichten je E-Rezept zwischen zwei Versicherten nimmt der Fachdienst nicht an
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" das letzte E-Rezept 10-mal mit dem Text "Bitte abholen" an "Claudia Neumann" schickt
    Wenn "Jonas Keller" noch eine Nachricht zum letzten E-Rezept an "Claudia Neumann" schickt
    Dann lehnt der Fachdienst die Nachricht mit 429 und dem Text "there are already 10 KVNR to KVNR messages" ab

  @TCID:ERP_UC33_006 @TESTFALL:positiv @AFO-ID:A_18508 @AFO-ID:A_18869
  Szenario: Zu einem E-Rezept in Abgabe darf der Versicherte dem Vertreter noch schreiben
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und die "Apotheke am Markt" hat das letzte E-Rezept von "Jonas Keller" abgerufen
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept mit dem Text "Die Apotheke hat es schon" an "Claudia Neumann" schickt
    Dann nimmt der Fachdienst die Nachricht an und setzt "Jonas Keller" als Absender

  @TCID:ERP_UC33_007 @TESTFALL:negativ @AFO-ID:A_18851 @AFO-ID:A_18508
  Szenario: Ein E-Rezept, das schon in Abgabe ist, kann der Versicherte keiner Apotheke mehr zuweisen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und die "Apotheke am Markt" hat das letzte E-Rezept von "Jonas Keller" abgerufen
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept per Nachricht der "Löwen-Apotheke" zuweist
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "Task has invalid status." ab

  @TCID:ERP_UC33_008 @TESTFALL:negativ @AFO-ID:A_20755
  Szenario: Keine Nachricht vom Versicherten an eine Prüfkarte eGK
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" das letzte E-Rezept mit dem Text "Für dich" an "Erika Mustermann" schickt
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "KVNR verification identities may not access information from insurants and vice versa" ab

  @TCID:ERP_UC33_009 @TESTFALL:negativ @AFO-ID:A_20755
  Szenario: Keine Nachricht von einer Prüfkarte eGK an einen Versicherten
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Erika Mustermann" 1 E-Rezept ausgestellt
    Und "Erika Mustermann" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Erika Mustermann" das letzte E-Rezept mit dem Text "Für dich" an "Jonas Keller" schickt
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "KVNR verification identities may not access information from insurants and vice versa" ab

  @TCID:ERP_UC33_010 @TESTFALL:negativ @AFO-ID:A_18851 @AFO-ID:A_18869
  Szenario: Ein Vertreter kann das erhaltene E-Rezept nur mit dem AccessCode im Header einer Apotheke zuweisen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept mit dem Text "Bitte einlösen" an "Anna Richter" geschickt
    Und "Anna Richter" ihre Nachrichten in der App abruft
    Wenn "Anna Richter" das per Nachricht erhaltene E-Rezept der "Apotheke am Markt" ohne den AccessCode im Header zuweist
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "Header must contain an access code" ab
    Wenn "Anna Richter" das per Nachricht erhaltene E-Rezept der "Apotheke am Markt" mit dem AccessCode im Header zuweist
    Dann nimmt der Fachdienst die Nachricht an und setzt "Anna Richter" als Absender

  @TCID:ERP_UC33_011 @TESTFALL:negativ @AFO-ID:A_18851
  Szenario: Ein Versicherter kann keine Apotheken-Antwort schicken
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" versucht, zum letzten E-Rezept eine Apotheken-Antwort an "Anna Richter" zu schicken
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "Invalid sender profession oid in communication reply message" ab
