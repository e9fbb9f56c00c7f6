-- wrk script: POST /oauth/token, grant client_credentials with client_secret_basic (e.g. the demo-backend client).
-- usage: wrk ... -s bench/lua/token-basic.lua http://127.0.0.1:PORT/oauth/token -- BASIC_CREDENTIALS_BASE64 SCOPE
function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Basic " .. args[1]
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.body = "grant_type=client_credentials&scope=" .. (args[2] or "system%2F*.rs")
end
