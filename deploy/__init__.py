"""papo's deployment tools: the Lambda zip (`lambda_zip`) and the web client's upload
(`publish_web`). They run from a checkout of papo and never ship in the zip."""
