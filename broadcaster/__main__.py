import sys

from broadcaster.cli.main import main

sys.exit(main())
