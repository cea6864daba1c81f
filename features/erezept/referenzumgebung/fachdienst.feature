# language: de
@PRODUKT:eRp_FD @PRODUKT:FdV @PRODUKT:AVS @Hauptdarsteller:Fachdienst @simulator-only
Funktionalität: Referenzumgebung – Szenarien des Fachdienstes
  gematiks E2E-Szenarien mit dem Fachdienst als Hauptdarsteller (../shared/reference/ru-dumps/Fachdienst), soweit
  sie Nachrichten und die Versicherten-Schnittstelle nutzen, nachgespielt mit unseren Personas ("Jonas Keller"
  statt Sina Hüllmann, "Apotheke am Markt" statt Am Flughafen). Jede Antwort, die die Aufzeichnung festhält, wird
  mit Status und OperationOutcome-Texten gegen die Aufzeichnung geprüft; dass die Nachrichten gelöscht sind, prüft
  zusätzlich ein Blick in die Datenbank des Fachdienstes (read-only).

  Nicht nachgespielt: pkv_e_rezept_als_direktzuweisung_an_gkv_versicherten_nicht_möglich und
  pkv_e_rezept_an_gkv_versicherten – beide prüfen nur $activate (Coverage "PKV" für WF 200/209), keine Operation der
  Versicherten-Schnittstelle oder der Nachrichten; sie gehören zum Verordnen.

  @RU-Dump:Fachdienst/fachdienst_löscht_alle_nachrichten_zu_einem_e_rezept_nach_dem_einlösen @Workflow:160
  @TCID:ERP_RU_FD_001 @TESTFALL:positiv @UC:UC_3.3 @UC:UC_3.4 @UC:UC_4.6 @UC:UC_4.7
  @AFO-ID:A_18508 @AFO-ID:A_18617 @AFO-ID:A_18618 @AFO-ID:A_19013 @AFO-ID:A_18869 @AFO-ID:A_18870 @AFO-ID:A_18868
  Szenario: Fachdienst löscht alle Nachrichten zu einem E-Rezept nach dem Einlösen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" sein letztes E-Rezept per Nachricht der "Apotheke am Markt" zuweist
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 007, 009; A_18868, A_18508, A_18869)
    Wenn die "Apotheke am Markt" die Zuweisung von "Jonas Keller" per Nachricht empfängt, annimmt und beantwortet
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 010, 011, 013; A_18617, A_19013)
    Wenn die "Apotheke am Markt" das letzte E-Rezept von "Jonas Keller" beliefert und den Workflow abschließt
    Und "Jonas Keller" seine Nachrichten beim Fachdienst abfragt
    Dann antwortet der Fachdienst den Versicherten wie in der Referenzumgebung aufgezeichnet (Schritte 015, 016; A_18618, A_18870)
    Und enthält die Nachrichtenliste von "Jonas Keller" keine Nachricht zu dem E-Rezept mehr, auch nicht die Datenbank
