"""The grant package: the donor's images, built from Debian packages, and the signed offline
bundle a recipient imports."""
