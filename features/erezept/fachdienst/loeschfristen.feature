# language: de
@UC:none @PRODUKT:eRp_FD @Hauptdarsteller:Fachdienst @simulator-only
Funktionalität: Löschfristen des E-Rezept-Fachdienstes
  Der Fachdienst löscht E-Rezepte je nach Status (A_18525, TAB_SYSLERP_021), Nachrichten 100 Tage nach
  dem Einstellen (A_18788) und Protokolleinträge 3 Jahre nach ihrer Erzeugung (A_18937) – physisch: nach
  Ablauf der Frist liefert die Schnittstelle nichts mehr, und auch die Datenbank des Fachdienstes (read-only
  durchsucht) enthält keine Rezept-ID, keinen AccessCode und keine Nachrichten- oder Eintrags-ID mehr.
  Die Zeit vergeht über die Admin-Schnittstelle der Simulatoren: die Uhren von IDP und Fachdienst werden
  gemeinsam gestellt (der Fachdienst löscht bei jedem Uhrwechsel), die E-Rezept-App meldet sich zur neuen
  Zeit neu an. Geprüft wird je Frist der Tag davor (noch gespeichert) und der Tag danach (gelöscht).
  Nach jedem Szenario gehen alle Uhren zurück auf die Systemzeit.

  Grundlage:
    Angenommen "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet

  @AFO-ID:A_18525 @TESTFALL:positiv
  Szenariogrundriss: E-Rezept im Status <Status>: <Frist> nach dem Statuswechsel gelöscht
    Angenommen ein E-Rezept von "Jonas Keller" im Status "<Status>" liegt beim Fachdienst vor
    Wenn seit dem Statuswechsel <davor> vergangen sind
    Dann ist das E-Rezept beim Fachdienst noch gespeichert
    Wenn seit dem Statuswechsel <danach> vergangen sind
    Dann ist das E-Rezept gelöscht, auch in der Datenbank des Fachdienstes

    @TCID:ERP_LF_001
    Beispiele: initialisiert
      | Status        | Frist    | davor      | danach     |
      | initialisiert | 1 Tag    | 23 Stunden | 25 Stunden |

    @TCID:ERP_LF_002
    Beispiele: in Abgabe
      | Status    | Frist    | davor   | danach   |
      | in Abgabe | 100 Tage | 99 Tage | 101 Tage |

    @TCID:ERP_LF_003
    Beispiele: quittiert
      | Status    | Frist    | davor   | danach   |
      | quittiert | 100 Tage | 99 Tage | 101 Tage |

    @TCID:ERP_LF_004
    Beispiele: gelöscht
      | Status   | Frist   | davor  | danach  |
      | gelöscht | 10 Tage | 9 Tage | 11 Tage |

  @TCID:ERP_LF_005 @AFO-ID:A_18525 @TESTFALL:positiv
  Szenario: Ein offenes E-Rezept wird 10 Tage nach dem Ende seiner Gültigkeit gelöscht
    Angenommen ein E-Rezept von "Jonas Keller" im Status "offen" liegt beim Fachdienst vor
    Wenn der 10. Tag nach dem Ablauf der Gültigkeit zu Ende geht
    Dann ist das E-Rezept beim Fachdienst noch gespeichert
    Wenn der 11. Tag nach dem Ablauf der Gültigkeit beginnt
    Dann ist das E-Rezept gelöscht, auch in der Datenbank des Fachdienstes

  @TCID:ERP_LF_006 @AFO-ID:A_18788 @TESTFALL:positiv
  Szenario: Eine Nachricht wird 100 Tage nach dem Einstellen gelöscht, unabhängig von ihrem E-Rezept
    Die Mehrfachverordnung ist ein Jahr gültig: das E-Rezept selbst bleibt über die 100 Tage hinaus gespeichert.
    Angenommen die Ärztin hat für "Jonas Keller" eine Mehrfachverordnung ausgestellt, die 365 Tage gültig ist
    Und "Jonas Keller" das letzte E-Rezept an "Claudia Neumann" schickt und sich die Nachricht merkt
    Und "Jonas Keller" nach 2 Tagen noch eine Nachricht zu dem E-Rezept an "Claudia Neumann" schickt
    Wenn seit der ersten Nachricht 99 Tage vergangen sind
    Dann sind beide Nachrichten beim Fachdienst gespeichert, auch in der Datenbank
    Wenn seit der ersten Nachricht 101 Tage vergangen sind
    Dann sind nur noch die zweite Nachricht beim Fachdienst gespeichert, auch in der Datenbank

  @TCID:ERP_LF_007 @AFO-ID:A_18937 @TESTFALL:positiv
  Szenario: Protokolleinträge werden 3 Jahre nach ihrer Erzeugung gelöscht
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" in der App alle E-Rezepte seitenweise zu je 5 abruft
    Und "Jonas Keller" hat das Zugriffsprotokoll zu dem E-Rezept abgerufen
    Wenn seit dem ersten Protokolleintrag zu dem E-Rezept 3 Jahre weniger einen Tag vergangen sind
    Dann enthält das Zugriffsprotokoll von "Jonas Keller" noch alle Einträge zu dem E-Rezept
    Wenn seit dem letzten Protokolleintrag zu dem E-Rezept 3 Jahre und einen Tag vergangen sind
    Dann enthält das Zugriffsprotokoll von "Jonas Keller" keinen der Einträge zu dem E-Rezept, auch nicht die Datenbank
