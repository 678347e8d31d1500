import { IntersectionType } from '@nestjs/swagger';
import { SetGlobalMinDto, SetHwidModeDto } from '../dto/fd.dto';
import { HardwareQueryDto } from '../dto/host.dto';
import { AttachDeviceDto, DetachQueryDto, GpaDto, KvmPasidMappingDto, SetHwidDto } from '../dto/ioasid.dto';
import { MigrateFdDto } from '../dto/migration.dto';
import { AttachmentPathDto, FdPathDto, HostPathDto, IoasidPathDto, KvmMappingPathDto } from '../dto/path.dto';

/**
 * gRPC requests carry in one message what REST splits into path, query and body. Each is
 * the intersection of REST's DTO classes, which copies their validation and conversion
 * rules: both transports accept exactly the same values. Requests that are a single REST
 * DTO (CreateFd, RegisterHost, ...) use that class as it is.
 */
export class SetHwidModeRequest extends IntersectionType(FdPathDto, SetHwidModeDto) {}
export class SetGlobalMinRequest extends IntersectionType(FdPathDto, SetGlobalMinDto) {}
export class AttachDeviceRequest extends IntersectionType(IoasidPathDto, AttachDeviceDto) {}
export class DetachDeviceRequest extends IntersectionType(AttachmentPathDto, DetachQueryDto) {}
export class IoasidGpaRequest extends IntersectionType(IoasidPathDto, GpaDto) {}
export class SetHwidRequest extends IntersectionType(IoasidPathDto, SetHwidDto) {}
export class SetKvmPasidMappingRequest extends IntersectionType(KvmMappingPathDto, KvmPasidMappingDto) {}
export class GetHardwareRequest extends IntersectionType(HostPathDto, HardwareQueryDto) {}
export class MigrateFdRequest extends IntersectionType(FdPathDto, MigrateFdDto) {}
