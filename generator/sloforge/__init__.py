"""sloforge: SLO rules-as-code compiler.

The pipeline is ``load -> validate -> plan -> build -> serialize -> write``; each
stage lives in its own module and only hands typed values forward.
"""

__version__ = "0.1.0"
