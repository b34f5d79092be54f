from glmcode.cli import main

raise SystemExit(main())
