"""``POST /api/v1/search/{search_id}/clicks``: a mobile client reports a click, an add-to-basket or a purchase."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from analytics import services
from analytics.models import Channel, InteractionType, SearchEvent
from catalog.api.errors import ErrorShapeMixin


class InteractionSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, help_text="The product the shopper acted on.")
    position = serializers.IntegerField(min_value=1, help_text="Its 1-based position in the search's results.")
    type = serializers.ChoiceField(choices=InteractionType.choices, default=InteractionType.CLICK)


class InteractionRecordedSerializer(InteractionSerializer):
    id = serializers.IntegerField()
    search_id = serializers.UUIDField(source="event_id")


class SearchInteractionView(ErrorShapeMixin, APIView):
    permission_classes = [permissions.AllowAny]
    throttle_classes = [AnonRateThrottle, UserRateThrottle]

    @extend_schema(
        summary="Record a click (or add-to-basket, purchase) on a result of a search",
        request=InteractionSerializer,
        responses={201: InteractionRecordedSerializer},
    )
    def post(self, request: Request, search_id: uuid.UUID) -> Response:
        params = InteractionSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            interaction = services.interaction_record(search_id=search_id, channel=Channel.API, **params.validated_data)
        except SearchEvent.DoesNotExist as exc:
            raise NotFound(str(exc)) from exc
        except services.InteractionRejected as exc:
            raise ValidationError({"position": [str(exc)]}) from exc
        return Response(InteractionRecordedSerializer(interaction).data, status=status.HTTP_201_CREATED)
