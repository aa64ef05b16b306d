"""The adapters of the store port (:class:`guotu.ports.FeatureStore`): a workspace in a
GeoPackage file, in a PostGIS schema, or in memory.

What every backend shares, written once:

* ``audit`` — the append-only, hash-chained audit log and the hooks every part of the
  catalogue uses (:class:`AuditLog`);
* ``catalog`` — plans, versions, time resolution (:class:`PlanCatalog`);
* ``identity`` — departments, accounts, layer access policies, tokens and sessions
  (:class:`IdentityCatalog`), with their rows and audit details in ``identity_records``;
* ``tables`` — non-spatial versioned tables (:class:`TableCatalog`);
* ``layers`` — layer lookups, the workspace CRS and the one write path of layers, with the
  small hooks each backend fills in (:class:`LayerCatalog`);
* ``revisions`` — content hashes, sharing unchanged features, the frame every read returns;
* ``layout`` — schema version, column names and types, how values, CRSs and times are written;
* ``messages`` — the errors every store gives in the same words;
* ``gpkg_blob`` — GeoPackage geometry blobs (also the form features are hashed in).

The backends: ``geopackage`` (with ``gpkg_connection``, ``gpkg_contents``, ``gpkg_schema``,
``rtree_bulk``), ``postgis`` (with ``postgis_connection``, ``postgis_schema``,
``postgis_reset``) and ``memory``, the reference implementation. A backend imports the
shared modules, never another backend.
"""
