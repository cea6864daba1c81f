# language: de
@UC:UC_4.7 @PRODUKT:AVS @PRODUKT:eRp_FD @Hauptdarsteller:Apotheke @simulator-only
Funktionalität: UC 4.7 – Nachricht durch Abgebenden übermitteln
  Die Apotheke antwortet auf die Zuweisung eines Versicherten (GEM_ERP_PR_Communication_Reply); Empfänger
  ist der Absender der ursprünglichen Nachricht, der Absender kommt aus dem Token der Apotheke. Der
  Inhalt folgt dem Schema der Antwort: ein Abholcode nur bei Abholung in der Apotheke. Zuweisungen
  (DispReq) schickt nur ein Versicherter, nie eine Apotheke.

  @TCID:ERP_UC47_001 @TESTFALL:positiv @AFO-ID:A_19013 @AFO-ID:A_18869 @AFO-ID:A_18870
  Szenario: Die Apotheke antwortet dem Versicherten mit einem Abholcode
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Jonas Keller" hat das letzte E-Rezept per Nachricht der "Apotheke am Markt" zugewiesen
    Und die "Apotheke am Markt" ihre Nachrichten abruft
    Wenn die "Apotheke am Markt" mit dem Abholcode "AB12CD34" antwortet
    Dann nimmt der Fachdienst die Nachricht an und setzt "Apotheke am Markt" als Absender
    Wenn "Jonas Keller" seine Nachrichten in der App abruft
    Dann erhält "Jonas Keller" die Antwort der "Apotheke am Markt" mit dem Abholcode "AB12CD34"

  @TCID:ERP_UC47_002 @TESTFALL:negativ @AFO-ID:A_18869 @AFO-ID:A_19013
  Szenario: Einen Abholcode gibt es nur bei Abholung in der Apotheke
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Wenn die "Apotheke am Markt" versucht, "Jonas Keller" mit dem Abholcode "AB12CD34" und dem Angebot "Versand" zu antworten
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "Invalid request body" ab (Diagnose "Invalid payload: Value of 'supplyOptionsType' must be 'onPremise'")

  @TCID:ERP_UC47_003 @TESTFALL:negativ @AFO-ID:A_18851
  Szenario: Eine Apotheke kann kein E-Rezept per Nachricht zuweisen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Wenn die "Apotheke am Markt" versucht, das letzte E-Rezept von "Jonas Keller" selbst per Nachricht der "Löwen-Apotheke" zuzuweisen
    Dann lehnt der Fachdienst die Nachricht mit 400 und dem Text "Invalid sender profession oid in communication message" ab
