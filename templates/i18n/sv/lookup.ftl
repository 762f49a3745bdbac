## The lookup's answers to "Får jag använda X?" and the words of a
## decision's conditions.

answer-allowed = Ja, { $name } får användas i { $org }.
answer-allowed_on_conditions = Ja, { $name } får användas i { $org } med de här villkoren:
answer-allowed_with_conditions = Ja, men { $conditions }.
answer-expired = Nej, godkännandet i { $org } gick ut { $until } och måste omprövas.
answer-not_allowed = Nej, { $name } får inte användas i { $org }.
answer-not_assessed = { $name } är inte bedömd i { $org } ännu. Använd den inte förrän den är godkänd.
answer-re_review = Tillåten — omprövning pågår.
answer-revoked = Nej, godkännandet av { $name } har återkallats i { $org }.
answer-status-allowed = tillåten
answer-status-allowed_with_conditions = tillåten med villkor
answer-status-expired = godkännandet har gått ut
answer-status-not_allowed = inte tillåten
answer-status-not_assessed = inte bedömd
answer-status-under_review = granskas
answer-under_review = { $name } granskas i { $org }: en ny version väntar på beslut. Använd den inte förrän den är godkänd. Beslutet den { $on } gällde en tidigare version: { $before }.
condition-class_max-confidential = högst för konfidentiella uppgifter, inte strikt konfidentiella
condition-class_max-internal = bara för allmänna och interna uppgifter
condition-class_max-public = bara för allmän information
condition-class_max-strictly_confidential = för alla informationsklasser, även strikt konfidentiella
condition-no_personal_data = utan personuppgifter
condition-no_special_category_data = utan känsliga personuppgifter (till exempel hälsa, etnicitet, religion)
condition-permitted_tasks = bara för: { $items }
condition-required_settings = med dessa inställningar: { $items }
list-and = och
