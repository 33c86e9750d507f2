"""Product images in object storage: checked, cleaned, thumbnailed, ordered."""
