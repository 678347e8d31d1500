import { IntersectionType } from '@nestjs/swagger';
import { SetGlobalMinDto, SetHwidModeDto } from '../dto/fd.dto';
import { HardwareQueryDto } from '../dto/host.dto';
import { AttachDeviceDto, DetachQueryDto, GpaDto, KvmPasidMappingDto, SetHwidDto } from '../dto/ioasid.dto';
import { MigrateFdDto } from '../dto/migration.dto';
import { AttachmentPathDto, FdPathDto, HostPathDto, IoasidPathDto, KvmMappingPathDto } from '../dto/path.dto';
import { ExpectedVersionDto } from './expected-version.dto';

/**
 * gRPC requests carry in one message what REST splits into path, query and body. Each is
 * the intersection of REST's DTO classes, which copies their validation and conversion
 * rules: both transports accept exactly the same values. Requests that are a single REST
 * DTO (CreateFd, RegisterHost, ...) use that class as it is.
 */
export class SetHwidModeRequest extends IntersectionType(FdPathDto, SetHwidModeDto, ExpectedVersionDto) {}
export class SetGlobalMinRequest extends IntersectionType(FdPathDto, SetGlobalMinDto, ExpectedVersionDto) {}
export class AttachDeviceRequest extends IntersectionType(IoasidPathDto, AttachDeviceDto, ExpectedVersionDto) {}
export class DetachDeviceRequest extends IntersectionType(AttachmentPathDto, DetachQueryDto, ExpectedVersionDto) {}
export class IoasidGpaRequest extends IntersectionType(IoasidPathDto, GpaDto, ExpectedVersionDto) {}
export class SetHwidRequest extends IntersectionType(IoasidPathDto, SetHwidDto, ExpectedVersionDto) {}
export class SetKvmPasidMappingRequest extends IntersectionType(KvmMappingPathDto, KvmPasidMappingDto, ExpectedVersionDto) {}
export class GetHardwareRequest extends IntersectionType(HostPathDto, HardwareQueryDto) {}
export class MigrateFdRequest extends IntersectionType(FdPathDto, MigrateFdDto, ExpectedVersionDto) {}
/** The fd writes whose REST operation has no body: the path and the condition (`expectedVersion`). */
export class FdWriteRequest extends IntersectionType(FdPathDto, ExpectedVersionDto) {}
export class IoasidWriteRequest extends IntersectionType(IoasidPathDto, ExpectedVersionDto) {}
export class KvmMappingWriteRequest extends IntersectionType(KvmMappingPathDto, ExpectedVersionDto) {}
