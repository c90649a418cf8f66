"""What several synthesis commands share that is specific to NV-Generate-CTMR.

The upstream checkout and its checks, the CT inference config and its rules, config staging, the
cost table, the anatomy table, user masks with their body envelope, and generated-image evidence.
"""
