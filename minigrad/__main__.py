"""``python -m minigrad`` runs the ``minigrad`` command."""

from minigrad.cli import main

raise SystemExit(main())
