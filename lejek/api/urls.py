from ninja import NinjaAPI

api = NinjaAPI(title="Lejek API", version="1", urls_namespace="api")
