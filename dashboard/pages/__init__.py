"""The dashboard's pages; each module owns its layout and registers its own callbacks."""
