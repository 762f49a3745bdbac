## What a request that cannot be carried out is told: the message of
## the error envelope and of the error page, and the reasons for a 403.

error-already_deactivated = Personen är redan avaktiverad.
error-already_submitted = Den här versionen är redan inlämnad för granskning.
error-body_not_object = Innehållet måste vara ett JSON-objekt.
error-character_not_allowed = Innehåller ett tecken som inte är tillåtet.
error-choose_decision = Välj godkänd, godkänd med villkor eller avslag.
error-choose_revision = Välj en version.
error-conditions_need_kind = Använd approved_with_conditions för ett godkännande med villkor.
error-conditions_required = Ett godkännande med villkor behöver minst ett villkor.
error-control_character = Innehåller ett styrtecken eller textriktningstecken som inte är tillåtet.
error-date_format = Skriv datumet som ÅÅÅÅ-MM-DD.
error-days_whole_number = Skriv antalet dagar som ett heltal.
error-deactivated = Personen är avaktiverad.
error-deactivated_no_role = Personen är avaktiverad och kan inte få en roll.
error-decision_exists = Det finns redan ett beslut för organisationen om den här versionen. Återkalla det först.
error-decision_revoked = Beslutet är redan återkallat.
error-delegation_revoked = Delegeringen är redan återkallad.
error-idempotency_key_reused = Denna Idempotency-Key har redan använts för en annan begäran.
error-invalid_days = Ange 0–3650 dagar.
error-invalid_delegate = Beslut kan bara delegeras till ett förbund, till exempel itsam.
error-invalid_format = Använd csv, csv-excel, json, html eller xlsx.
error-invalid_period = Slutdatumet ligger före startdatumet.
error-invalid_risk_class = Använd prohibited, high_risk, limited_transparency, minimal eller not_ai_system.
error-invalid_role = Välj samordnare, beslutsfattare, granskare eller administratör.
error-invalid_scope = Omfattningen måste vara "all" (alla tjänster).
error-invalid_status = Använd allowed, allowed_with_conditions, not_allowed, expired eller not_assessed.
error-invalid_username = Ett användarnamn har 2 till 64 tecken: bokstäverna a-z, siffror, punkt, understreck och bindestreck.
error-invalid_version = En version av regeluppsättningen ser ut som 2026.1+3f9a2c1b7d0e.
error-no_review_interval = Versionen saknar ett användbart omprövningsintervall (governance.review.interval_months); lägg till en version med ett.
error-not_latest_revision = Bara den senaste versionen kan lämnas in.
error-not_under_review = Den här versionen är inte den som granskas: besluta om den senast inlämnade versionen.
error-policies_built_in = Servern använder de inbyggda policyerna; starta den med --policies KATALOG för att kunna ladda om.
error-query_required = Skriv ett namn att söka efter.
error-reason_required = Ett avslag måste motiveras.
error-rejection_conditions = Ett avslag har inga villkor.
error-rejection_valid_until = Ett avslag har inget giltighetsdatum.
error-role_held = Personen har redan rollen.
error-role_not_held = Personen har inte rollen.
error-submitted_meanwhile = Versionen har redan lämnats in.
error-token_revoked = Token är redan återkallad.
error-too_many_conditions = Högst 50 villkor.
error-username_taken = En annan person i organisationen har det användarnamnet.
error-valid_until_past = Giltighetsdatumet har redan passerat.
error-verdict_fail = Versionen uppfyller inte en blockerande regel och kan inte godkännas.
error-whole_number = Skriv ett heltal utan decimaler, till exempel 12 och inte 12.0.
why-form_expired = Formuläret har gått ut eller kom inte från Tillit. Ladda om sidan och försök igen.
why-form_foreign = Formulär tas bara emot från Tillits egna sidor.
why-identity_linked_elsewhere = Ett annat konto för gemensam inloggning är redan kopplat till en person med det här namnet. Kontakta din administratör.
why-operator_reloads = bara driftens operatör laddar om regeluppsättningen (tillit policies reload, eller --operators)
why-role_granted_by_author = din roll som beslutsfattare gavs av någon som har skrivit, ändrat eller lämnat in den här tjänsten
why-sign_in_unconfirmed = Inloggningen kunde inte bekräftas. Börja om från inloggningssidan.
error-bad_request = Begäran kunde inte läsas: { $detail }
error-invalid_document =
    { $count ->
        [one] Dokumentet följer inte inlämningsschemat (1 fel).
       *[other] Dokumentet följer inte inlämningsschemat ({ $count } fel).
    }
error-unauthorized = Logga in eller skicka en giltig token (Authorization: Bearer …).
error-forbidden = Du har inte behörighet att göra detta: { $why }.
error-not_found = Hittades inte.
error-method_not_allowed = Adressen tar inte emot den metoden; se Allow.
error-route_not_found = Det finns ingen sådan sida eller adress.
error-payload_too_large = Begärans innehåll är för stort (högst 256 KiB).
error-unsupported_media_type = Skicka innehållet som application/json.
error-too_many_requests = För många förfrågningar. Vänta en stund och försök igen.
error-unavailable = Tjänsten är upptagen. Försök igen om en stund.
error-internal = Något gick fel hos oss. Ange fel-id om du kontaktar support.
error-condition_flag = Villkoret har värdet true (eller inget).
error-condition_invalid = Inte ett giltigt villkor. Typer: information_class_max, no_personal_data, no_special_category_data, permitted_tasks, required_settings, other.
error-condition_items = Ange 1–50 punkter, var och en 1–500 tecken.
error-condition_text = Beskriv villkoret med 1–500 tecken.
error-conditions_invalid = Ett eller flera villkor är inte giltiga.
error-conflict = Detta krockar med en post som redan finns.
error-decision_reference = Ange kommunens diarienummer för beslutet, högst 100 tecken.
error-file_not_json = Filen är inte giltig JSON: { $detail }
error-invalid_name = Namnet går inte att använda.
error-invalid_policy = Den nya regeluppsättningen går inte att använda: { $detail }
error-invalid_query = Sökningen är för lång (högst { $max } tecken) eller innehåller styrtecken.
error-password_length = Ett lösenord har { $min } till { $max } tecken.
error-request_characters = Begäran innehåller styrtecken eller textriktningstecken som inte är tillåtna.
error-request_fields = Begäran har inte de fält som krävs: { $detail }.
error-revoke_reason = Ange varför beslutet återkallas.
error-text_too_long = Högst { $max } tecken.
error-token_label = En tokens etikett får vara högst { $max } tecken.
error-token_lifetime = En token gäller mellan 1 och { $max } dagar.
error-unknown_organisation = Det finns ingen organisation "{ $slug }". Använd en förkortning från /api/v1/organisations.
error-unknown_revision = Tjänsten har ingen version { $revision }.
error-valid_until_after_review = Giltighetsdatumet får vara högst { $latest } (omprövning var { $months }:e månad).
schema-constant = Måste vara { $value }.
schema-country_code = Inte en landskod enligt ISO 3166-1 alpha-2 (till exempel SE, FI, US).
schema-country_or_null = Måste vara en landskod enligt ISO 3166-1 alpha-2 eller null.
schema-email = Måste vara en e-postadress.
schema-empty = Får inte vara tom.
schema-enum = Inte ett tillåtet värde. Tillåtna: { $allowed }.
schema-https = Måste vara en https://-adress.
schema-language_code = Inte en språkkod enligt ISO 639-1 (till exempel sv, en, fi).
schema-max_items = För många poster: högst { $limit }.
schema-max_length = För lång: högst { $limit } tecken.
schema-maximum = Får vara högst { $limit }.
schema-min_items = För få poster: minst { $limit }.
schema-min_length = För kort: minst { $limit } tecken.
schema-minimum = Måste vara minst { $limit }.
schema-no_form = Stämmer inte med någon tillåten form.
schema-other = Inte tillåtet här ({ $keyword }).
schema-pattern = Har fel form.
schema-required = Det obligatoriska fältet "{ $field }" saknas.
schema-sha256 = Måste vara en SHA-256-summa: 64 hexadecimala tecken.
schema-unknown_field = Okänt fält "{ $field }". Kontrollera stavningen; bara fälten i inlämningsordlistan är tillåtna.
serde-missing_field = fältet { $field } saknas
serde-other = värdena har inte den form som krävs
serde-unknown_field = fältet { $field } finns inte
serde-unknown_value = { $value } är inte tillåtet; använd { $allowed }
why-admins_only = bara organisationens administratörer
why-approvers_decide = bara beslutsfattare (approver) beslutar
why-demand_own_org = bara samordnare, beslutsfattare och administratörer i organisationen ser vad dess anställda frågat efter
why-auditors_export = bara granskare och administratörer exporterar rapporter
why-coordinators_change = bara den ägande organisationens samordnare ändrar en tjänst
why-coordinators_create = bara organisationens samordnare skapar dess tjänster
why-drafts_private = utkast visas bara för den ägande organisationen
why-no_authority = du får inte besluta för den här organisationen (ingen delegering gäller)
why-own_role = ingen kan ge sig själv en roll; en annan administratör måste göra det
why-own_service = åtskilda uppgifter: du har skrivit eller lämnat in den här tjänsten
why-person_or_admins = bara personen själv eller organisationens administratörer
serde-wrong_kind =
    { $got ->
        [number] talet { $value }
        [text] texten "{ $value }"
        [boolean] { $value }
        [null] null
        [list] en lista
       *[object] ett objekt
    } där det ska stå { $want ->
        [whole] ett heltal
        [number] ett tal
        [text] text
        [boolean] true eller false
        [list] en lista
        [object] ett objekt
       *[other] en annan sorts värde
    }
schema-type =
    Fel typ: här ska det vara { $kind ->
        [string] text
        [boolean] true eller false
        [integer] ett heltal
        [number] ett tal
        [array] en lista
        [object] ett objekt
        [null] null
       *[other] en annan typ
    }{ $or ->
        [none] {""}
        [string] {" eller text"}
        [boolean] {" eller true eller false"}
        [integer] {" eller ett heltal"}
        [number] {" eller ett tal"}
        [array] {" eller en lista"}
        [object] {" eller ett objekt"}
        [null] {" eller null"}
       *[other] {" eller en annan typ"}
    }.
schema-format =
    Måste vara { $format ->
        [date] ett datum skrivet som ÅÅÅÅ-MM-DD
        [email] en e-postadress
        [uri] en fullständig webbadress (https://…)
        [hostname] ett värdnamn som chat.example.com
       *[other] i rätt format
    }.
error-import_empty = Filen är tom. Ladda upp mallen med en rad per tjänst.
error-import_unreadable = Filen går inte att läsa. Använd en Excel-fil (.xlsx) eller en CSV-fil.
error-import_column_twice = Kolumnen ”{ $column }” gäller samma uppgift som en annan kolumn. Ta bort den ena.
error-import_no_name = Filen saknar kolumnen ”Tjänstens namn”. Första raden ska innehålla kolumnernas namn, som i mallen.
error-import_too_many_rows = Filen har fler än { $max } tjänster. Dela upp den i flera filer.
error-unknown_person = Det finns ingen aktiv person som heter ”{ $name }” i organisationen.
error-name_the_person = Ange med --as vem som läser in filen: organisationen har inte exakt en samordnare.
error-import_unpacked_too_large = Excel-filen är för stor när den packas upp. Spara bara bladet med tjänsterna, eller använd CSV.
