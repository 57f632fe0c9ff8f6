from kpidesk.cli.main import main

raise SystemExit(main())
