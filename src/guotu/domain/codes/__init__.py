"""Land-use code tables (用地用海分类, 三调 工作分类), code validation, names and the
crosswalks between them."""
