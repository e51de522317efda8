"""Detection engine: leaked AI credentials, public model-access relays, self-hosted model endpoints.

``Scanner(watchlist=..., max_file_bytes=...).scan_files([(path, data), ...], asset_id)`` returns
:class:`services.events.Finding` events; no raw secret ever leaves it.
"""

from services.detect.scanner import Scanner, prefilter_engine
from services.detect.watchlist import Watchlist, WatchlistError

__all__ = ["Scanner", "Watchlist", "WatchlistError", "prefilter_engine"]
