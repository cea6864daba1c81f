# language: de
@UC:UC_3.1 @PRODUKT:FdV @PRODUKT:eRp_FD @Hauptdarsteller:Versicherter @simulator-only
Funktionalität: UC 3.1 – E-Rezepte durch Versicherten abrufen
  Der Versicherte meldet sich mit seiner eGK in der E-Rezept-App an, lädt alle seine E-Rezepte
  (GET /Task seitenweise, dann GET /Task/<id> je E-Rezept) und sieht Inhalt, E-Rezept-Token und
  DataMatrix-Code. E-Rezepte anderer Versicherter sieht er nicht.

  @TCID:ERP_UC31_001 @TESTFALL:positiv @AFO-ID:A_18506 @AFO-ID:A_18868 @AFO-ID:A_20555 @AFO-ID:A_18539 @AFO-ID:A_18789 @AFO-ID:A_18534 @AFO-ID:A_18535
  Szenario: Der Versicherte lädt seine E-Rezepte, sieht den Inhalt und zeigt sie als DataMatrix-Code
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 3 E-Rezepte ausgestellt
    Und die Ärztin "Dr. Hanna Ebert" hat für "Anna Richter" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" in der App alle E-Rezepte seitenweise zu je 2 abruft
    Dann sieht "Jonas Keller" genau die für ihn ausgestellten E-Rezepte mit Status und AccessCode
    Und zeigt die App den Inhalt des E-Rezepts von "Jonas Keller" an
    Und erzeugt die App für alle E-Rezepte von "Jonas Keller" die E-Rezept-Token in einem DataMatrix-Code, der sich wieder einscannen lässt

  @TCID:ERP_UC31_002 @TESTFALL:positiv @AFO-ID:A_18537
  Szenario: Die App exportiert E-Rezept-Token in eine Datei, eine andere App importiert sie
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 2 E-Rezepte ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Und "Anna Richter" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" in der App alle E-Rezepte seitenweise zu je 5 abruft
    Dann exportiert die App die E-Rezept-Token von "Jonas Keller" als Datei, die "Anna Richter" importieren kann

  @TCID:ERP_UC31_003 @TESTFALL:negativ @AFO-ID:A_20555 @AFO-ID:A_20556 @AFO-ID:A_20557
  Szenario: Nur die E-Rezept-App erhält den AccessCode, und kein Clientsystem des Versicherten darf Operationen der Leistungserbringer ausführen
    Angenommen die Ärztin "Dr. Hanna Ebert" hat für "Jonas Keller" 1 E-Rezept ausgestellt
    Und "Jonas Keller" ist mit der eGK in der E-Rezept-App angemeldet
    Wenn "Jonas Keller" sich mit der eGK in einer anderen App als der E-Rezept-App anmeldet und seine E-Rezepte abruft
    Dann erhält die andere App das E-Rezept von "Jonas Keller" ohne AccessCode, die E-Rezept-App mit AccessCode
    Wenn "Jonas Keller" mit dem Access-Token der E-Rezept-App Operationen der Leistungserbringer aufruft
    Dann weist der Fachdienst jede dieser Operationen mit 403 für die professionOID des Versicherten ab und das E-Rezept bleibt bereit
