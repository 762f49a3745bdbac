## What the command line prints.

cli-outcome-fail = EJ UPPFYLLT
cli-outcome-not_applicable = ej tillämplig
cli-outcome-pass = uppfyllt
cli-outcome-warn = varning
cli-rule_set = Regeluppsättning { $version }
cli-severity-advisory = rådgivande
cli-severity-blocking = blockerande
cli-stdin = standard in
cli-verdict-fail = uppfyller inte reglerna (minst en blockerande regel är inte uppfylld; tjänsten kan inte godkännas)
cli-verdict-invalid = kan inte prövas (dokumentet följer inte inlämningsschemat; inga regler har prövats)
cli-verdict-pass = uppfyller reglerna (alla blockerande regler är uppfyllda)
