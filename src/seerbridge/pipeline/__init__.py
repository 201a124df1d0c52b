"""The steps that move a request from "approved in Seerr" to "files on Real-Debrid": plan, search, select, acquire."""
