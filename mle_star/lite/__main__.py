import sys

from mle_star.lite.common import main

sys.exit(main())
