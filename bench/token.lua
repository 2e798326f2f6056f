-- wrk: POST a client-credentials grant with HTTP Basic client authentication.
-- Set with environment variables BASIC (base64 of id:secret) and SCOPE.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=" .. os.getenv("SCOPE")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BASIC")
