"""seerbridge as Seerr's Radarr and Sonarr: what the four servers answer, decided from seerbridge's own facts."""
