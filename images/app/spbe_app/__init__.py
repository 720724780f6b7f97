"""Reference implementation of the apps Kabupaten Sumedang grants, for spbe-kit's images."""
