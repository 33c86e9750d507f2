"""Product reviews: verified purchases only, a staff moderation queue and helpful votes."""
