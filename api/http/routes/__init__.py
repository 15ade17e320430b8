"""One module per resource: `health`, `programmes` (opening, admissions, summary), `writes`
(every county command), `counties` (a county's read models)."""
