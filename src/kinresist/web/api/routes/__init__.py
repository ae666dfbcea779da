"""Route modules: auth, pages, analyse, kb, admin, api (JSON), workflows (generated JSON API)."""
