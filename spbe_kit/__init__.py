"""spbe-kit: installs and configures granted SPBE applications for Indonesian regions.

The pipeline is visible in the module names: load -> validate -> render -> plan -> apply
-> verify. Only apply and verify touch servers.
"""

__version__ = "0.1.0"
