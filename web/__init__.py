"""The office web (`antrean web`): dashboard, admin pages and the resident's phone page."""
