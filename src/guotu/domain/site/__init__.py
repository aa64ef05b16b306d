"""Site query (空间码): which plan zones, control lines and parcels a site lies in."""
