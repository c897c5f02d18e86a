from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import partner_profile_of


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        name = serializers.CharField()
        role = serializers.CharField()
        status = serializers.CharField()

    @extend_schema(responses=OutputSerializer, summary="The logged-in user and its role")
    def get(self, request: Request) -> Response:
        user = request.user
        profile = partner_profile_of(user)
        data = {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": "admin" if user.is_network_admin else user.role,
            "status": profile.status if profile else "approved",
        }
        return Response(self.OutputSerializer(data).data)
